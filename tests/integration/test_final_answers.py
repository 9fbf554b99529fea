"""A snapshot as known at a T before the last event the timeline applied can no
longer change, but for a number rewritten in place (a person forgotten, a BSN
linked) or a rebuild: it carries a strong ETag, and a reader holding it gets
304 with nobody shown (and nothing audited) until one of those happens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, batch, prepare, rec, student
from tests.intake_helpers import student_id as id_of
from tests.integration.test_access import login

SNAPSHOT = f"/v1/schools/01OE/years/{SJ}/snapshot"
AUG, SEP, OCT = utc(2026, 8, 20), utc(2026, 9, 10), utc(2026, 10, 20)
FINAL = {"stand_per": "2026-09-01T00:00:00+00:00"}  # before SEP, the last event


def delivered(rt: Runtime) -> tuple[TestClient, dict[str, str]]:
    prepare(rt)
    rt.intake.submit(batch(rec(1, student(ANNA)), rec(2, student(PIET))), AUG)
    rt.intake.submit(batch(rec(1, student(OLD)), number=2), SEP)
    rt.catch_up()
    client = TestClient(create_app(rt))
    return client, login(client, rt, "school01oe", Role.SCHOOL, SEP, brin="01OE")


def test_a_final_answer_is_named_and_not_sent_again(runtime: Runtime) -> None:
    client, own = delivered(runtime)
    first = client.get(SNAPSHOT, params=FINAL, headers=own)
    assert first.status_code == 200 and first.json()["controletotaal"] == 2
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    same = client.get(SNAPSHOT, params=FINAL, headers={**own, "If-None-Match": tag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["ETag"] == tag and "X-Log-Position" in same.headers
    assert [r["rows"] for r in runtime.reads.reads()] == [2]  # the 304 showed no one
    # Later events do not touch what was known before them.
    runtime.intake.submit(batch(rec(2, student(PIET), "V"), number=3), OCT)
    runtime.catch_up()
    own = login(client, runtime, "school01oe-oct", Role.SCHOOL, OCT, brin="01OE")
    later = client.get(SNAPSHOT, params=FINAL, headers={**own, "If-None-Match": tag})
    assert later.status_code == 304
    # Not final: as known now, or at the last event's own instant.
    for params in ({}, {"stand_per": OCT.isoformat()}):
        open_ = client.get(SNAPSHOT, params=params, headers={**own, "If-None-Match": tag})
        assert open_.status_code == 200 and "ETag" not in open_.headers
    # Another question has another tag.
    page = client.get(SNAPSHOT, params={**FINAL, "limit": 1}, headers=own)
    assert page.status_code == 200 and page.headers["ETag"] != tag


def test_forgetting_a_person_changes_a_final_answer(runtime: Runtime) -> None:
    client, own = delivered(runtime)
    first = client.get(SNAPSHOT, params=FINAL, headers=own)
    tag = first.headers["ETag"]
    assert PIET["bsn"] in first.text
    assert runtime.registry.forget(id_of(runtime, PIET["bsn"]), OCT)
    runtime.catch_up()
    own = login(client, runtime, "school01oe-oct", Role.SCHOOL, OCT, brin="01OE")
    again = client.get(SNAPSHOT, params=FINAL, headers={**own, "If-None-Match": tag})
    assert again.status_code == 200 and again.headers["ETag"] != tag
    assert PIET["bsn"] not in again.text and ANNA["bsn"] in again.text
    assert again.json()["controletotaal"] == 2
