"""`registry snapshot | foto … | assurance | projections … | replay | explain`."""

from __future__ import annotations

import contextlib
import signal
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from registry.application.fotos import IssuedFoto
from registry.bootstrap import Runtime, projections
from registry.cli.common import (
    AtOption,
    emit,
    foto_kind,
    parse_time,
    progress,
    projection_named,
    refuse,
    refuse_file,
    runtime,
    school_year_key,
    stored_foto,
    timeline_reading,
)
from registry.domain.calendar import SchoolYearCalendar
from registry.intake.reference_files import FileRefused, parse_exclusions
from registry.projections import replay as audit_replay
from registry.projections.engine.daemon import Daemon
from registry.projections.queries import audit, signals
from registry.projections.queries.diff import Side, diff
from registry.projections.queries.peiling import snapshot as make_snapshot
from registry.projections.timeline import Timeline

foto_app = typer.Typer(help="Count-date snapshots (fotos).", no_args_is_help=True)
projections_app = typer.Typer(help="Read-side projections.", no_args_is_help=True)
app_signals = typer.Typer(help="Attention signals per school.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("snapshot")(snapshot)
    app.command("assurance")(assurance)
    app.command("replay")(replay)
    app.command("explain")(explain)
    app.command("funding")(funding)
    app.add_typer(foto_app, name="foto")
    app.add_typer(projections_app, name="projections")
    app.add_typer(app_signals, name="signals")


def snapshot(
    brin: str,
    schooljaar: str,
    peildatum: Annotated[
        str | None, typer.Option(help="valid date; default 1 October")
    ] = None,
    stand_per: Annotated[
        str | None, typer.Option(help="as known at (ISO 8601); default now")
    ] = None,
) -> None:
    """Who was enrolled on PEILDATUM as known at STAND_PER, with funding verdicts."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    try:
        d = (
            date.fromisoformat(peildatum)
            if peildatum
            else SchoolYearCalendar.of(schooljaar).count_date
        )
    except ValueError:
        refuse(f"--peildatum {peildatum!r} is not a date (YYYY-MM-DD)")
    with runtime() as rt:
        t = parse_time(stand_per, "--stand-per") or rt.now()
        with timeline_reading(rt) as r:
            emit(make_snapshot(r.cursor, brin, schooljaar, d, t))


@foto_app.command("issue")
def foto_issue(soort: str, brin: str, schooljaar: str, at: AtOption = None) -> None:
    """Issue a voorlopig / actueel / definitief foto (printed as the document)."""
    kind = foto_kind(soort)
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        rt.catch_up()
        foto = rt.record(lambda t: rt.fotos.issue(kind, brin, schooljaar, t), at)
        emit(_shown(rt, foto))


@foto_app.command("show")
def foto_show(brin: str, schooljaar: str, soort: str) -> None:
    """Print an issued foto (SOORT or SOORT:VERSIE; the latest version by default)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        foto = stored_foto(rt, brin, schooljaar, soort)
        emit(_shown(rt, foto))


def _shown(rt: Runtime, foto: IssuedFoto) -> dict[str, Any]:
    """The document with its version and hash; an actuele foto with the school's
    signals as known at its stand_per beside it (not part of the hashed document)."""
    extra: dict[str, Any] = {"versie": foto.versie, "hash": foto.content_hash}
    if foto.soort == "actueel":
        d = foto.document
        with timeline_reading(rt) as r:
            extra["signalen"] = signals.current(
                r.cursor, d["brin"], d["schooljaar"], foto.stand_per
            )
    return foto.document | extra


@app_signals.command("list")
def signals_list(
    brin: str,
    schooljaar: str,
    stand_per: Annotated[
        str | None, typer.Option(help="as known at; default now")
    ] = None,
) -> None:
    """The school's current attention signals (X121, X130, X131, X132, X150)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        t = parse_time(stand_per, "--stand-per") or rt.now()
        with timeline_reading(rt) as r:
            emit(signals.current(r.cursor, brin, schooljaar, t))


@foto_app.command("verify")
def foto_verify(brin: str, schooljaar: str, soort: str) -> None:
    """Derive an issued foto again from the log; exit 1 if the hash differs."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        foto = stored_foto(rt, brin, schooljaar, soort)
        rt.catch_up()
        ok = rt.fotos.verify(foto)
        emit(
            {
                "soort": foto.soort,
                "versie": foto.versie,
                "hash": foto.content_hash,
                "equal": ok,
            }
        )
        if not ok:
            raise typer.Exit(1)


@foto_app.command("diff")
def foto_diff(brin: str, schooljaar: str, van: str, naar: str) -> None:
    """Who entered, left or changed verdict between two fotos (SOORT[:VERSIE] or now)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        sides = [_side(rt, brin, schooljaar, which) for which in (van, naar)]
        with timeline_reading(rt) as r:
            peildatum = SchoolYearCalendar.of(schooljaar).count_date
            emit(diff(r.cursor, brin, schooljaar, peildatum, *sides))


def _side(rt: Runtime, brin: str, schooljaar: str, which: str) -> Side:
    if which == "now":
        return Side("now", rt.now(), rt.projector.live_position(Timeline.name))
    foto = stored_foto(rt, brin, schooljaar, which)
    return Side(f"{foto.soort}:{foto.versie}", foto.stand_per, foto.position)


def assurance(
    brin: str,
    schooljaar: str,
    batches: Annotated[
        str, typer.Option(help="accountant batchnummers, N,N (may be empty)")
    ] = "",
    exclusions: Annotated[
        Path | None, typer.Option(help="JSON Lines: students not to fund")
    ] = None,
    at: AtOption = None,
) -> None:
    """Record the assurance report (accountant's statement) with its exclusions."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    try:
        numbers = [int(n) for n in batches.split(",") if n.strip()]
    except ValueError:
        refuse(f"--batches {batches!r} is not a list of numbers N,N")
    rows: list[dict[str, Any]] = []
    if exclusions is not None:
        try:
            rows = parse_exclusions(exclusions.read_text(encoding="utf-8").splitlines())
        except OSError as e:
            refuse(f"cannot read {exclusions}: {e}")
        except FileRefused as e:
            refuse_file(exclusions, e)
    with runtime() as rt:
        year = rt.record(
            lambda t: rt.registry.report_assurance(brin, schooljaar, numbers, rows, t),
            at,
        )
        emit(
            {
                "brin": brin,
                "schooljaar": schooljaar,
                "stage": year.stage.value,
                "batches": numbers,
                "exclusions": len(rows),
            }
        )


@projections_app.command("status")
def projections_status() -> None:
    """Position, head and lag of every projection schema."""
    with runtime() as rt:
        emit([s.__dict__ | {"lag": s.lag} for s in rt.projector.status()])


@projections_app.command("run")
def projections_run(
    once: Annotated[bool, typer.Option(help="catch up once and exit")] = False,
) -> None:
    """Keep every projection caught up (SIGTERM/Ctrl-C stops it cleanly)."""
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    with runtime() as rt:
        if once:
            emit({p.name: rt.projector.fresh(p) for p in projections(rt.settings)})
            return
        with contextlib.suppress(KeyboardInterrupt):
            daemon = Daemon(rt.projector, projections(rt.settings))
            daemon.run(should_stop=lambda: stop["now"])


@projections_app.command("rebuild")
def projections_rebuild(name: str) -> None:
    """Rebuild a projection beside the live one; it takes over when caught up."""
    with runtime() as rt, progress(f"rebuild {name}") as bar:
        projection = projection_named(rt, name)
        task = bar.add_task(name, total=None)
        schema = rt.projector.rebuild(
            projection,
            on_page=lambda pos, head: bar.update(task, completed=pos, total=head),
        )
    emit({"projection": name, "live": schema})


def replay(
    until: Annotated[
        str, typer.Option(help="rebuild the log as known at T (ISO 8601)")
    ],
    projection: Annotated[str, typer.Option(help="projection name")] = "timeline",
    foto: Annotated[
        str | None,
        typer.Option(
            help="compare with an issued foto: BRIN/SCHOOLJAAR/SOORT[:VERSIE]"
        ),
    ] = None,
    keep: Annotated[bool, typer.Option(help="keep the scratch schema")] = False,
) -> None:
    """Rebuild a projection from the log as known at T in a scratch schema and
    compare it with the live tables (as known at T) or with an issued foto.
    Exit 1 when they differ."""
    t = parse_time(until, "--until")
    assert t is not None
    with runtime() as rt:
        chosen = projection_named(rt, projection)
        issued = None
        if foto is not None:
            brin, schooljaar, which = ([*foto.split("/"), "", ""])[:3]
            brin, schooljaar = school_year_key(brin, schooljaar)
            issued = stored_foto(rt, brin, schooljaar, which)
        with progress(f"replay {projection}") as bar:
            task = bar.add_task(projection, total=None)
            report = audit_replay.replay(
                rt.projector,
                chosen,
                t,
                keep=keep,
                foto=issued,
                on_page=lambda pos, head: bar.update(task, completed=pos, total=head),
            )
        emit(report)
        if report.get("differences") or (issued and not report["foto"].get("equal")):
            raise typer.Exit(1)


def explain(
    brin: str,
    schooljaar: str,
    student: Annotated[str, typer.Argument(help="BSN or onderwijsnummer")],
    stand_per: Annotated[
        str | None, typer.Option(help="as known at; default now")
    ] = None,
) -> None:
    """The events that decided one student's verdict on the count date."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        t = parse_time(stand_per, "--stand-per") or rt.now()
        peildatum = SchoolYearCalendar.of(schooljaar).count_date
        with timeline_reading(rt) as r:
            try:
                emit(audit.explain(r.cursor, brin, schooljaar, student, peildatum, t))
            except LookupError as e:
                refuse(str(e), code=1)


def funding(brin: str, schooljaar: str) -> None:
    """The school's funding statement from its definitief (else voorlopig) foto,
    every amount as count × rate."""
    from registry.domain.funding import FundingError
    from registry.projections.queries.funding import statement

    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt, timeline_reading(rt) as r:
        try:
            emit(statement(r.cursor, brin, schooljaar))
        except FundingError as e:
            refuse(str(e), code=1)
