"""The `registry` command: the operator's and the tests' way in (contract.md).

Every command prints JSON on stdout; a refusal prints a clear message on stderr
and exits 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from registry.access.policy import Role
from registry.bootstrap import Runtime
from registry.cli.audit import register as register_audit
from registry.cli.common import (
    REFUSALS,
    AtOption,
    emit,
    refuse,
    refuse_file,
    runtime,
    school_year_key,
)
from registry.cli.consume import register as register_consume
from registry.cli.deliveries import register as register_deliveries
from registry.cli.foto import register as register_foto
from registry.cli.kafka import register as register_kafka
from registry.cli.population import register as register_population
from registry.cli.projections import register as register_projections
from registry.cli.publish import register as register_publish
from registry.cli.school_years import register as register_school_years
from registry.cli.signals import register as register_signals
from registry.cli.simulation import register as register_simulation
from registry.cli.snapshots import register as register_snapshots
from registry.cli.year import register as register_year
from registry.config import Settings
from registry.domain.school_year import SchoolYear
from registry.intake.reference_files import FileRefused, parse_schools

app = typer.Typer(
    help="Enrolment registry for Dutch secondary schools (after BRON VO).",
    no_args_is_help=True,
)
schools_app = typer.Typer(
    help="School registration (participation).", no_args_is_help=True
)
users_app = typer.Typer(
    help="Users and their access (operators only).", no_args_is_help=True
)
db_app = typer.Typer(
    help="The embedded PostgreSQL in REGISTRY_STATE_DIR.", no_args_is_help=True
)
app.add_typer(schools_app, name="schools")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
register_deliveries(app)
register_simulation(app)
register_population(app)
register_year(app)
register_snapshots(app)
register_school_years(app)
register_audit(app)
register_foto(app)
register_projections(app)
register_signals(app)
register_kafka(app)
register_publish(app)
register_consume(app)


def year_view(year: SchoolYear) -> dict[str, Any]:
    return {
        "brin": year.brin,
        "schooljaar": year.schooljaar,
        "stage": year.stage.value,
        "declared_on": year.declared_on,
        "stopped_on": year.stopped_on,
        "version": year.version,
    }


@schools_app.command("load")
def schools_load(file: Path, at: AtOption = None) -> None:
    """Register schools, vestigingen and licences from a JSON Lines file."""
    try:
        registrations = parse_schools(file.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as e:
        refuse(f"cannot read {file}: {e}")
    except FileRefused as e:
        refuse_file(file, e)
    with runtime() as rt:
        size = rt.settings.save_batch_size
        report = rt.record(
            lambda t: rt.registry.load_schools(registrations, t, size), at
        )
        emit(report.__dict__)


def _year_command(
    action: Callable[[Runtime, str, str, Any], SchoolYear],
    brin: str,
    schooljaar: str,
    at: str | None,
) -> None:
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        emit(year_view(rt.record(lambda t: action(rt, brin, schooljaar, t), at)))


@app.command("declare-complete")
def declare_complete(brin: str, schooljaar: str, at: AtOption = None) -> None:
    """Record the completeness declaration (volledigheidsverklaring)."""
    _year_command(
        lambda rt, b, s, t: rt.registry.declare_complete(b, s, t), brin, schooljaar, at
    )


@app.command("mutation-stop")
def mutation_stop(brin: str, schooljaar: str, at: AtOption = None) -> None:
    """Stop mutations on request; refused before the school's voorlopige foto exists."""
    _year_command(
        lambda rt, b, s, t: rt.registry.stop_mutations(b, s, t, on_request=True),
        brin,
        schooljaar,
        at,
    )


@app.command("school-year")
def school_year(brin: str, schooljaar: str) -> None:
    """Print the stage of a school's registration for a school year (exit 1: none)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        year = rt.registry.school_year(brin, schooljaar)
        if year is None:
            refuse(f"no registration for {brin} {schooljaar}", code=1)
        assert year is not None
        emit(year_view(year))


@users_app.command("add")
def users_add(
    login: str,
    role: Annotated[Role, typer.Option(help="school, accountant, agency or operator")],
    brin: Annotated[
        str | None, typer.Option(help="the one BRIN of a school/accountant")
    ] = None,
    recipient: Annotated[
        str | None, typer.Option(help="the one recipient of an agency")
    ] = None,
    at: AtOption = None,
) -> None:
    """Add a user; prints the initial password (to be replaced) and the TOTP secret."""
    if brin is not None:
        brin = school_year_key(brin, "2000-2001")[0]
    with runtime() as rt:
        creds = rt.access.add_user(
            login, role, rt.at(at), brin=brin, recipient=recipient
        )
        emit(creds.__dict__)


@users_app.command("reset")
def users_reset(
    login: str,
    new_second_factor: Annotated[
        bool, typer.Option(help="also issue a new TOTP secret")
    ] = False,
    at: AtOption = None,
) -> None:
    """Give a user a new initial password (and optionally a new second factor)."""
    with runtime() as rt:
        emit(
            rt.access.reset(
                login, rt.at(at), new_second_factor=new_second_factor
            ).__dict__
        )


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server and leave it running for later commands."""
    from registry.infrastructure.embedded_postgres import EmbeddedPostgres

    emit({"url": EmbeddedPostgres(Settings().state_dir, keep_running=True).start()})


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    from registry.infrastructure.embedded_postgres import EmbeddedPostgres

    EmbeddedPostgres(Settings().state_dir).stop()
    emit({"stopped": True})


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API (loopback by default)."""
    import uvicorn

    from registry.api.app import create_app

    with runtime() as rt:
        uvicorn.run(create_app(rt), host=host, port=port)


@app.command("demo")
def demo(
    scale: Annotated[str, typer.Option(help="tiny, small or national")] = "small",
    seed: Annotated[int, typer.Option(help="the generated year's seed")] = 1,
) -> None:
    """Play a whole school year on a fresh demo database (simulated clock), with
    publication to the agencies beside it; prints a summary, writes a report."""
    from registry.simulation.demo import run_demo

    if scale not in ("tiny", "small", "national"):
        refuse(f"--scale {scale!r} is not tiny, small or national")
    try:
        summary = run_demo(scale, seed)
    except REFUSALS as e:
        refuse(str(e))
    keys: tuple[str, ...] = ("schooljaar", "at", "cards", "signals", "unfunded")
    keys += ("diff", "funding", "topics", "consumers", "lag", "stages", "report")
    keys += ("database_url",)
    played = {k: summary["played"][k] for k in ("seconds", "mismatches")}
    emit({k: summary[k] for k in keys} | played)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
