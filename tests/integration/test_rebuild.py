"""Rebuilds: cancelled ones leave the live tables and drop their schema; one
school's rows re-derived and swapped in at the live position, exactly once,
the other schools untouched; progress on the command line."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg.sql import SQL, Identifier
from typer.testing import CliRunner

from registry.bootstrap import Runtime
from registry.cli.main import app
from registry.config import Settings
from registry.projections.engine.rebuild import RebuildCancelled, rebuild_school
from registry.projections.extracts.cbs import Cbs
from registry.projections.timeline import Timeline
from registry.publishing.contract import topic as topic_name
from tests.conftest import utc
from tests.intake_helpers import (
    ANNA,
    HANS,
    OLD,
    PIET,
    batch,
    period,
    prepare,
    rec,
    student,
)

Rows = dict[str, set[tuple[Any, ...]]]


def two_schools(rt: Runtime) -> None:
    prepare(rt)
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    rt.intake.submit(
        batch(rec(1, student(HANS)), rec(2, student(OLD)), brin="02AB"),
        utc(2026, 8, 21),
    )


def school_rows(url: str, schema: str, brin: str) -> Rows:
    with psycopg.connect(url) as conn:
        return {
            table: set(
                conn.execute(
                    SQL("SELECT * FROM {} WHERE brin = %s").format(
                        Identifier(schema, table)
                    ),
                    (brin,),
                ).fetchall()
            )
            for table in Timeline.school_tables
        }


def schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'p\\_%' "
                "OR nspname LIKE 'school\\_%'"
            )
        }


def tracking(rt: Runtime) -> list[tuple[str, int, bool]]:
    return [(s.schema, s.position, s.live) for s in rt.projector.status()]


@pytest.mark.parametrize("stop", ["flag", "interrupt"])
def test_a_cancelled_rebuild_leaves_the_live_tables(
    runtime: Runtime, stop: str
) -> None:
    rt = runtime
    two_schools(rt)
    live = rt.catch_up()
    before, shown = tracking(rt), school_rows(rt.database_url, live, "01OE")
    made = schemas(rt.database_url)

    def interrupt(position: int, limit: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(RebuildCancelled if stop == "flag" else KeyboardInterrupt):
        if stop == "flag":  # SIGTERM on the command line sets it
            rt.projector.rebuild(Timeline(), should_stop=lambda: True)
        else:  # Ctrl-C
            rt.projector.rebuild(Timeline(), on_page=interrupt)
    assert rt.projector.live_schema("timeline") == live
    assert tracking(rt) == before  # no side schema is tracked any more
    assert schemas(rt.database_url) == made  # and none is left behind
    assert school_rows(rt.database_url, live, "01OE") == shown
    # A rebuild after it starts afresh and takes over.
    assert rt.projector.rebuild(Timeline()) != live


def test_one_school_is_rebuilt_at_the_live_position_exactly_once(
    runtime: Runtime,
) -> None:
    rt, url = runtime, runtime.database_url
    two_schools(rt)
    live = rt.catch_up()
    # A fault in the live tables (as a bug would leave them), at both schools.
    with psycopg.connect(url) as conn:
        for brin in ("01OE", "02AB"):
            conn.execute(
                SQL("UPDATE {} SET leerjaar = 6 WHERE brin = %s").format(
                    Identifier(live, "periods")
                ),
                (brin,),
            )
    other = school_rows(url, live, "02AB")
    # Meanwhile the school delivers again: the log is ahead of the live tables.
    rt.intake.submit(
        batch(rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2)), number=2),
        utc(2026, 9, 1),
    )
    at = rt.projector.live_position("timeline")
    caught_up = []

    def daemon_meanwhile(position: int, limit: int) -> None:
        # The live tables move on while the school's rows are re-derived: the
        # swap must wait for the replay to reach them, not apply events twice.
        if not caught_up:
            caught_up.append(rt.catch_up())

    swapped = rebuild_school(rt.projector, Timeline(), "01OE", on_page=daemon_meanwhile)
    assert swapped["schema"] == live and swapped["position"] > at
    assert swapped["position"] == rt.projector.live_position("timeline")
    assert swapped["tables"]["periods"]["inserted"] > 0
    assert school_rows(url, live, "02AB") == other  # untouched, fault and all
    fixed = school_rows(url, live, "01OE")
    assert {r for r in fixed["periods"] if r[5] == 6} == set()
    assert not {s for s in schemas(url) if s.startswith("school_")}  # dropped

    # Exactly what a whole rebuild derives, the later delivery applied once.
    whole = rt.projector.rebuild(Timeline())
    assert school_rows(url, whole, "01OE") == fixed
    assert school_rows(url, whole, "02AB") != other


def test_a_school_rebuild_is_refused_where_it_cannot_be_done(runtime: Runtime) -> None:
    rt = runtime
    two_schools(rt)
    rt.catch_up()
    with pytest.raises(LookupError, match="no school 99ZZ"):
        rebuild_school(rt.projector, Timeline(), "99ZZ")
    cbs = Cbs(b"k", topic_name)
    rt.projector.fresh(cbs)
    with pytest.raises(ValueError, match="no per-school tables"):
        rebuild_school(rt.projector, cbs, "01OE")


def test_every_table_with_a_school_is_a_school_table(runtime: Runtime) -> None:
    live = runtime.catch_up()
    with psycopg.connect(runtime.database_url) as conn:
        with_brin = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = %s AND column_name = 'brin'",
                (live,),
            )
        }
    assert with_brin == set(Timeline.school_tables)
    assert Timeline.school_tables[0] == "schools"


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert settings.database_url is not None
    monkeypatch.setenv(
        "REGISTRY_DATABASE_URL", settings.database_url.get_secret_value()
    )
    monkeypatch.setenv("REGISTRY_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("REGISTRY_LOG_FORMAT", "json")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_rebuild_on_the_command_line(cli, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    two_schools(runtime)
    live = runtime.catch_up()
    whole = cli("projections", "rebuild", "timeline")
    assert whole.exit_code == 0, whole.output
    assert json.loads(whole.stdout)["live"] != live
    # Off a terminal the progress is log lines: where, and at the end, done.
    lines = [json.loads(line)["message"] for line in whole.stderr.splitlines()]
    assert any(m.startswith("rebuild timeline: log position ") for m in lines)
    assert lines[-1].endswith("(100%), done")

    one = cli("projections", "rebuild", "timeline", "--brin", "01OE")
    assert one.exit_code == 0, one.output
    done = json.loads(one.stdout)
    assert done["brin"] == "01OE" and done["tables"]["schools"] == {
        "deleted": 1,
        "inserted": 1,
    }
    bad = cli("projections", "rebuild", "timeline", "--brin", "1OE")
    assert bad.exit_code == 2 and "refused" in bad.stderr
    unknown = cli("projections", "rebuild", "timeline", "--brin", "99ZZ")
    assert unknown.exit_code == 2 and "no school 99ZZ" in unknown.stderr
