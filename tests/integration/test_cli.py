"""The `registry` command per contract.md, on the real database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry.cli.main import app
from registry.config import Settings

SCHOOL = {
    "brin": "01OE",
    "naam": "Voorbeeld College",
    "gemeente": "GM0014",
    "vestigingen": [
        {
            "vestiging": "00",
            "naam": "Hoofdlocatie",
            "hoofdvestiging": True,
            "postcode": "9711AB",
            "gemeente": "GM0014",
            "licenties": [{"elementcode": "0300", "van": "2020-08-01", "tot": None}],
        }
    ],
}


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert settings.database_url is not None
    monkeypatch.setenv(
        "REGISTRY_DATABASE_URL", settings.database_url.get_secret_value()
    )
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def write(tmp_path: Path, *lines: dict | str) -> str:  # type: ignore[type-arg]
    path = tmp_path / "schools.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    )
    return str(path)


def test_schools_load_is_idempotent_and_records_changes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = cli(
        "schools", "load", write(tmp_path, SCHOOL), "--at", "2026-07-01T00:00:00+00:00"
    )
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["registered"] == 1
    again = cli(
        "schools", "load", write(tmp_path, SCHOOL), "--at", "2026-07-02T00:00:00+00:00"
    )
    assert json.loads(again.stdout) == {
        "registered": 0,
        "changed": 0,
        "unchanged": 1,
        "events": 0,
    }
    renamed = {**SCHOOL, "naam": "Nieuwe naam"}
    changed = cli(
        "schools",
        "load",
        write(tmp_path, SCHOOL, renamed),
        "--at",
        "2026-07-03T00:00:00+00:00",
    )
    assert json.loads(changed.stdout)["changed"] == 1


def test_a_bad_schools_file_is_refused_whole_with_every_problem(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bad_postcode = {
        **SCHOOL,
        "brin": "02AB",
        "vestigingen": [{**SCHOOL["vestigingen"][0], "postcode": "9711SS"}],
    }
    result = cli(
        "schools",
        "load",
        write(tmp_path, SCHOOL, "not json", bad_postcode, {"brin": "03CD"}),
        "--at",
        "2026-07-01T00:00:00+00:00",
    )
    assert result.exit_code == 2
    assert "line 2: not JSON" in result.stderr
    assert "line 3: postcode" in result.stderr
    assert "line 4: naam" in result.stderr
    assert "nothing was recorded" in result.stderr
    year = cli("school-year", "01OE", "2026-2027")
    assert year.exit_code == 1


def test_declare_complete_and_mutation_stop(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("schools", "load", write(tmp_path, SCHOOL), "--at", "2026-07-01T00:00:00+00:00")
    stop = cli(
        "mutation-stop", "01OE", "2026-2027", "--at", "2026-10-02T00:00:00+00:00"
    )
    assert stop.exit_code == 2 and "provisional_snapshot" in stop.stderr
    done = cli(
        "declare-complete", "01OE", "2026-2027", "--at", "2026-10-10T12:00:00+02:00"
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["stage"] == "completeness_declared"
    twice = cli(
        "declare-complete", "01OE", "2026-2027", "--at", "2026-10-11T00:00:00+00:00"
    )
    assert twice.exit_code == 2
    back = cli(
        "schools",
        "load",
        write(tmp_path, {**SCHOOL, "naam": "Later"}),
        "--at",
        "2026-01-01T00:00:00+00:00",
    )
    assert back.exit_code == 2 and "before the last recorded time" in back.stderr
    unknown = cli(
        "declare-complete", "99ZZ", "2026-2027", "--at", "2026-10-12T00:00:00+00:00"
    )
    assert unknown.exit_code == 2 and "not registered" in unknown.stderr


def test_at_is_refused_with_the_system_clock(
    cli,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_CLOCK", "system")
    result = cli(
        "schools", "load", write(tmp_path, SCHOOL), "--at", "2026-07-01T00:00:00+00:00"
    )
    assert result.exit_code == 2 and "REGISTRY_CLOCK=simulated" in result.stderr


def test_help_lists_the_commands(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("--help").stdout
    for command in ("schools", "declare-complete", "mutation-stop", "users", "serve"):
        assert command in out


def test_users_add_and_reset(cli) -> None:  # type: ignore[no-untyped-def]
    added = cli(
        "users",
        "add",
        "admin01oe",
        "--role",
        "school",
        "--brin",
        "01OE",
        "--at",
        "2026-07-01T00:00:00+00:00",
    )
    assert added.exit_code == 0, added.output
    creds = json.loads(added.stdout)
    assert len(creds["initial_password"]) >= 8 and creds["totp_uri"].startswith(
        "otpauth://"
    )
    assert (
        cli(
            "users",
            "add",
            "admin01oe",
            "--role",
            "school",
            "--brin",
            "01OE",
            "--at",
            "2026-07-01T00:00:00+00:00",
        ).exit_code
        == 2
    )
    no_brin = cli(
        "users", "add", "x", "--role", "accountant", "--at", "2026-07-01T00:00:00+00:00"
    )
    assert no_brin.exit_code == 2 and "brin" in no_brin.stderr
    reset = cli(
        "users",
        "reset",
        "admin01oe",
        "--new-second-factor",
        "--at",
        "2026-07-02T00:00:00+00:00",
    )
    assert reset.exit_code == 0
    fresh = json.loads(reset.stdout)
    assert fresh["initial_password"] != creds["initial_password"]
    assert fresh["totp_secret"] != creds["totp_secret"]
    assert (
        cli("users", "reset", "nobody", "--at", "2026-07-02T00:00:00+00:00").exit_code
        == 2
    )


def test_the_stop_and_the_calendar_from_the_command_line(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    cli("schools", "load", write(tmp_path, SCHOOL), "--at", "2026-07-01T00:00:00+00:00")
    cli("declare-complete", "01OE", "2026-2027", "--at", "2026-10-05T12:00:00+02:00")
    early = cli("milestones", "run", "--at", "2026-11-14T12:00:00+01:00")
    assert json.loads(early.stdout) == {"done": {}, "refused": []}
    due = cli("milestones", "run", "--at", "2026-11-15T20:00:00+01:00")
    assert json.loads(due.stdout)["done"] == {"voorlopige foto": 1}
    stop = cli(
        "mutation-stop", "01OE", "2026-2027", "--at", "2027-03-01T19:00:00+01:00"
    )
    assert stop.exit_code == 0, stop.output
    shown = json.loads(stop.stdout)
    assert shown["stage"] == "current_snapshot"
    assert shown["foto"]["soort"] == "actueel" and shown["signalen"] == []
    actueel = cli("foto", "show", "actueel", "01OE", "2026-2027")
    assert json.loads(actueel.stdout)["signalen"] == []
    assert cli("foto", "verify", "actueel", "01OE", "2026-2027").exit_code == 0


def test_feedback_of_a_malformed_brin_is_refused_not_a_traceback(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("feedback", "XX", "1", "2025-2026", "1")
    assert result.exit_code == 2 and "brin" in result.stderr
    assert "Traceback" not in result.output
    unknown = cli("feedback", "01OE", "0", "2025-2026", "1")
    assert unknown.exit_code == 1


def test_a_command_names_its_connections_after_itself(
    cli,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("PGAPPNAME", "before")  # restored after the test
    assert cli("status").exit_code in (0, 1)
    assert os.environ["PGAPPNAME"] == "registry status"
