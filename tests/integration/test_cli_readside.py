"""The read-side commands: snapshot, fotos, assurance, replay, explain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from registry.bootstrap import bootstrap
from registry.cli.main import app
from registry.config import Settings
from tests.factories import SJ
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert settings.database_url is not None
    monkeypatch.setenv(
        "REGISTRY_DATABASE_URL", settings.database_url.get_secret_value()
    )
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    with bootstrap(settings) as rt:
        prepare(rt)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if code == 0 else result

    return run


def test_a_school_year_on_the_command_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    raw = tmp_path / "b1.json"
    raw.write_text(batch(rec(1, student(ANNA)), rec(2, student(PIET))))
    cli("submit", str(raw), "--at", "2026-08-20T10:00:00+00:00")
    refused = cli(
        "foto",
        "issue",
        "voorlopig",
        "01OE",
        SJ,
        "--at",
        "2026-10-02T00:00:00+00:00",
        code=2,
    )
    assert "completeness" in refused.stderr or "needs stage" in refused.stderr
    cli("declare-complete", "01OE", SJ, "--at", "2026-10-03T00:00:00+00:00")
    foto = cli(
        "foto", "issue", "voorlopig", "01OE", SJ, "--at", "2026-11-15T00:00:00+00:00"
    )
    assert (foto["soort"], foto["controletotaal"], foto["versie"]) == (
        "voorlopig",
        2,
        1,
    )

    v = tmp_path / "b2.json"
    v.write_text(batch(rec(1, student(ANNA), "V"), number=2))
    cli("submit", str(v), "--at", "2026-11-20T00:00:00+00:00")
    now = cli("snapshot", "01OE", SJ)
    assert now["controletotaal"] == 1
    before = cli("snapshot", "01OE", SJ, "--stand-per", "2026-11-16T00:00:00+00:00")
    assert before["inschrijvingen"] == foto["inschrijvingen"]

    assert cli("foto", "verify", "voorlopig", "01OE", SJ)["equal"] is True
    d = cli("foto", "diff", "voorlopig", "now", "01OE", SJ)
    assert [i["leerling"] for i in d["uitgestroomd"]] == [ANNA["bsn"]]

    replayed = cli("replay", "--until", "2026-11-16T00:00:00+00:00")
    assert replayed["differences"] == {}
    against = cli(
        "replay",
        "--until",
        "2026-12-01T00:00:00+00:00",
        "--foto",
        f"01OE/{SJ}/voorlopig",
    )
    assert against["foto"]["equal"] is True

    why = cli("explain", "01OE", SJ, ANNA["bsn"])
    assert [e["event"] for e in why["events"]] == [
        "Enrolment.Registered",
        "Enrolment.Deleted",
    ]
    assert why["verdict"] == []
    status = cli("projections", "status")
    assert [(s["name"], s["live"], s["lag"]) for s in status] == [("timeline", True, 0)]


def test_assurance_refuses_a_bad_exclusions_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"leerling": {"bsn": "800000481"}, "reden": "ziek"}\n')
    result = cli(
        "assurance",
        "01OE",
        SJ,
        "--exclusions",
        str(bad),
        "--at",
        "2027-06-25T00:00:00+00:00",
        code=2,
    )
    assert "line 1: reden" in result.stderr
