"""Forgetting reaches what the log's sealing does not (docs/privacy.md): the
assurance report names students by id, not by number, and an excluded person
forgotten later still counts as excluded."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from registry.cli.main import app
from registry.config import Settings
from registry.domain.foto import content_hash
from registry.domain.school_year import SchoolYear
from registry.infrastructure.event_store import EVENTS_TABLE
from registry.projections.engine.reading import reading
from registry.projections.queries.funding import statement
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student, student_id
from tests.integration.test_access import login


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    """Anna and Piet enrolled; the voorlopige and actuele fotos issued."""
    prepare(runtime)
    fb = runtime.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    ).feedback
    assert fb["goedgekeurd"] == 2, fb
    runtime.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    runtime.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    runtime.registry.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    runtime.fotos.issue("actueel", "01OE", SJ, utc(2027, 3, 1, 20))
    return runtime


def year_states(rt: Runtime) -> list[str]:
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s",
            (SchoolYear.create_id("01OE", SJ),),
        ).fetchall()
    return [bytes(r[0]).decode() for r in rows]


def funding(rt: Runtime) -> dict[str, Any]:
    rt.catch_up()
    with reading(rt.database_url, Timeline.name) as r:
        return statement(r.cursor, "01OE", SJ)


def rebuild_timeline(rt: Runtime) -> None:
    (timeline,) = [p for p in rt.projections if p.name == Timeline.name]
    rt.projector.rebuild(timeline)


def test_an_assurance_report_holds_no_number(rt: Runtime) -> None:
    excluded = [{"leerling": {"bsn": PIET["bsn"]}, "reden": "indicatie"}]
    rt.registry.report_assurance("01OE", SJ, [], excluded, utc(2027, 6, 25))  # type: ignore[list-item]
    states = year_states(rt)
    piet_id = student_id(rt, PIET["bsn"])
    assert any(str(piet_id.hex) in s for s in states)  # named by id …
    assert not [s for s in states if PIET["bsn"] in s]  # … and by no number
    definitief = rt.fotos.issue("definitief", "01OE", SJ, utc(2027, 7, 21))
    assert definitief.document["bekostigd"] == 1
    before = funding(rt)
    assert before["perioden"]["niet_bekostigd_per_reden"] == {"X151": 1}

    assert rt.registry.forget(piet_id, utc(2032, 8, 1))
    rebuild_timeline(rt)
    # The exclusion still decides Piet's verdict: it names the id, not the
    # number that is now unreadable; re-derived, the foto counts the same.
    assert funding(rt) == before
    again = rt.fotos.rederive(rt.fotos.stored("01OE", SJ, "definitief"))
    assert (again["controletotaal"], again["bekostigd"]) == (2, 1)
    with reading(rt.database_url, Timeline.name) as r:
        (number,) = r.cursor.execute(
            "SELECT s.number FROM exclusions x JOIN students s USING (student_id)"
        ).fetchone() or (None,)
    assert number == f"vergeten:{piet_id}"


def foto_rows(rt: Runtime) -> list[str]:
    """Every stored foto, document and proof, as text; and its listed people."""
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute("SELECT document::text, proof::text FROM fotos").fetchall()
        listed = conn.execute("SELECT student_id::text FROM foto_persons").fetchall()
    return [t for row in [*rows, *listed] for t in row]


def entries(doc: Any) -> dict[str, Any]:
    return {e["leerling"]["bsn"] or "vergeten": e for e in doc["inschrijvingen"]}


def test_forgetting_redacts_the_issued_fotos_and_keeps_their_hash_explained(
    rt: Runtime,
) -> None:
    issued = rt.fotos.stored("01OE", SJ, "voorlopig")
    assert rt.fotos.check(issued).ok and issued.proof is not None
    anna_id = student_id(rt, ANNA["bsn"])
    assert any(str(anna_id) in t for t in foto_rows(rt))  # listed, by id
    paid = funding(rt)

    assert rt.registry.forget(anna_id, utc(2032, 8, 1))
    assert rt.fotos.redact_forgotten() == 2  # voorlopig and actueel
    assert rt.fotos.redact_forgotten() == 0

    for text in foto_rows(rt):
        for trace in (ANNA["bsn"], str(anna_id), anna_id.hex, "vergeten:"):
            assert trace not in text
    foto = rt.fotos.stored("01OE", SJ, "voorlopig")
    doc = foto.document
    assert (doc["controletotaal"], doc["bekostigd"]) == (2, 2)
    assert foto.content_hash == issued.content_hash
    was, now = entries(issued.document), entries(doc)
    assert now[PIET["bsn"]] == was[PIET["bsn"]]
    assert now["vergeten"]["leerling"] == {
        "bsn": None,
        "onderwijsnummer": None,
        "vergeten": True,
    }
    assert {**now["vergeten"], "leerling": None} == {
        **was[ANNA["bsn"]],
        "leerling": None,
    }
    checked = rt.fotos.check(foto)
    assert (checked.hash_explained, checked.same_content, checked.vergeten) == (
        True,
        True,
        1,
    )
    again = rt.fotos.rederive(foto)
    assert (again["controletotaal"], again["bekostigd"]) == (2, 2)
    assert funding(rt) == paid


def test_a_changed_redacted_entry_fails_verification(rt: Runtime) -> None:
    anna_id = student_id(rt, ANNA["bsn"])
    rt.registry.forget(anna_id, utc(2032, 8, 1))
    rt.fotos.redact_forgotten()
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(
            "UPDATE fotos SET document = jsonb_set(document, "
            "'{inschrijvingen,1,leerjaar}', '2') WHERE soort = 'voorlopig'"
        )
    checked = rt.fotos.check(rt.fotos.stored("01OE", SJ, "voorlopig"))
    assert (checked.hash_explained, checked.same_content) == (False, False)


def test_a_foto_issued_after_forgetting_names_no_one_forgotten(rt: Runtime) -> None:
    anna_id = student_id(rt, ANNA["bsn"])
    rt.registry.forget(anna_id, utc(2027, 3, 5))
    foto = rt.fotos.issue("actueel", "01OE", SJ, utc(2027, 3, 6))
    assert foto.versie == 2 and rt.fotos.check(foto).ok
    stored = rt.fotos.stored("01OE", SJ, "actueel")
    assert stored.document == foto.document
    assert "vergeten:" not in str(stored.document)
    assert entries(stored.document)["vergeten"]["leerling"]["vergeten"] is True


def test_a_foto_hashed_flat_is_redacted_but_its_hash_no_longer_checks(
    rt: Runtime,
) -> None:
    """Fotos issued before proofs (scheme 1): still verified while whole; once a
    number is gone nothing can show the hash without also confirming guesses."""
    with psycopg.connect(rt.database_url) as conn:
        conn.execute("DELETE FROM foto_persons WHERE soort = 'voorlopig'")
        doc = conn.execute(
            "SELECT document FROM fotos WHERE soort = 'voorlopig'"
        ).fetchone()
        assert doc is not None
        conn.execute(
            "UPDATE fotos SET proof = NULL, content_hash = %s "
            "WHERE soort = 'voorlopig'",
            (content_hash(doc[0]),),
        )
    flat = rt.fotos.stored("01OE", SJ, "voorlopig")
    assert flat.proof is None and rt.fotos.verify(flat)

    anna_id = student_id(rt, ANNA["bsn"])
    rt.registry.forget(anna_id, utc(2032, 8, 1))
    assert rt.fotos.redact_forgotten() == 2
    foto = rt.fotos.stored("01OE", SJ, "voorlopig")
    assert foto.proof == {"scheme": 1, "entries": [], "checked": True}
    assert ANNA["bsn"] not in str(foto.document)
    checked = rt.fotos.check(foto)
    assert (checked.hash_explained, checked.same_content) == (None, True)
    assert not checked.ok


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    assert settings.database_url is not None
    url = settings.database_url.get_secret_value()
    monkeypatch.setenv("REGISTRY_DATABASE_URL", url)
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_a_redacted_foto_is_served_by_the_cli_and_the_api(
    rt: Runtime, cli: Any
) -> None:
    anna_id = student_id(rt, ANNA["bsn"])
    rt.registry.forget(anna_id, utc(2032, 8, 1))
    rt.fotos.redact_forgotten()
    shown = cli("foto", "show", "voorlopig", "01OE", SJ)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["controletotaal"] == 2
    verified = cli("foto", "verify", "voorlopig", "01OE", SJ)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout) | {"hash": None} == {
        "soort": "voorlopig",
        "versie": 1,
        "hash": None,
        "hash_scheme": 2,
        "hash_explained": True,
        "same_content": True,
        "vergeten": 1,
        "equal": True,
    }

    client = TestClient(create_app(rt))
    own = login(client, rt, "school01oe", Role.SCHOOL, rt.now(), brin="01OE")
    year = f"/v1/schools/01OE/years/{SJ}/fotos/voorlopig"
    foto = client.get(year, headers=own).json()
    assert sorted(e["leerling"]["bsn"] or "-" for e in foto["inschrijvingen"]) == [
        "-",
        PIET["bsn"],
    ]
    sheet = client.get(year, params={"format": "csv"}, headers=own)
    assert sheet.status_code == 200 and ANNA["bsn"] not in sheet.text
    assert (
        client.get(f"/v1/schools/01OE/years/{SJ}/funding", headers=own).json()["totaal"]
        == funding(rt)["totaal"]
    )


def test_retention_run_redacts_what_an_earlier_forgetting_left(
    rt: Runtime, cli: Any
) -> None:
    """Forgotten, but the command stopped before the fotos were redacted: the
    next run redacts them, and a run after it has nothing left to do."""
    anna_id = student_id(rt, ANNA["bsn"])
    rt.registry.forget(anna_id, utc(2032, 8, 1))
    run = cli("retention", "run", "--at", "2032-08-02T00:00:00+00:00")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["foto_entries_redacted"] == 2
    again = cli("retention", "run", "--at", "2032-08-03T00:00:00+00:00")
    assert json.loads(again.stdout)["foto_entries_redacted"] == 0
