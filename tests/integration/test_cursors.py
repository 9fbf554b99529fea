"""Paging cursors name no one and cannot be altered: an offset and a time,
signed with the server's key over the question they belong to."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, TWIN, batch, prepare, rec, student
from tests.integration.test_access import login

YEAR = f"/v1/schools/01OE/years/{SJ}"
AUG = utc(2026, 8, 20)
NUMBERS = sorted(p["bsn"] for p in (ANNA, PIET, OLD))


@pytest.fixture
def api(runtime: Runtime) -> tuple[Runtime, TestClient, dict[str, str]]:
    prepare(runtime)
    runtime.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET)), rec(3, student(OLD))),
        AUG,
    )
    runtime.catch_up()
    client = TestClient(create_app(runtime))
    operator = login(client, runtime, "operator", Role.OPERATOR, AUG)
    return runtime, client, operator


def pages(client: TestClient, url: str, headers: Any, **params: Any) -> list[Any]:
    answers, cursor = [], None
    while True:
        answer = client.get(url, params={**params, "cursor": cursor}, headers=headers)
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return answers


def decoded(token: str) -> str:
    """Everything a reader of an access log could make of a cursor."""
    parts = token.split(".")
    return " ".join(
        base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode("latin-1")
        for p in parts
    )


def test_pages_follow_each_other_and_cursors_hold_no_number(api: Any) -> None:
    _, client, operator = api
    answers = pages(client, YEAR + "/snapshot", operator, limit=1)
    numbers = [e["leerling"]["bsn"] for a in answers for e in a["inschrijvingen"]]
    assert numbers == NUMBERS
    cursors = [a["next_cursor"] for a in answers[:-1]]
    for cursor in cursors:
        for bsn in NUMBERS:
            assert bsn not in cursor and bsn not in decoded(cursor)
    national = pages(
        client, "/v1/enrolments", operator, schooljaar=SJ, valid_on="2026-10-01", limit=2
    )
    assert [len(a["enrolments"]) for a in national] == [2, 1]


def test_a_later_page_answers_at_the_first_pages_time(api: Any) -> None:
    rt, client, operator = api
    first = client.get(YEAR + "/snapshot", params={"limit": 2}, headers=operator).json()
    # A new student (sorting first) arrives before the next page is asked for.
    twin = {**TWIN, "bsn": "200000007"}
    rt.intake.submit(batch(rec(1, student(twin)), number=2), utc(2026, 9, 1))
    rt.catch_up()
    # The API's clock follows the log: a session of the new now.
    later = login(client, rt, "operator2", Role.OPERATOR, rt.now())
    rest = client.get(
        YEAR + "/snapshot",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=later,
    ).json()
    assert rest["controletotaal"] == first["controletotaal"] == 3
    shown = [e["leerling"]["bsn"] for e in first["inschrijvingen"] + rest["inschrijvingen"]]
    assert shown == NUMBERS


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: "MA." + c.split(".")[1],  # another offset, the old signature
        lambda c: c[:-2] + ("AA" if c[-2:] != "AA" else "BB"),
        lambda c: c + "x",
        lambda c: base64.urlsafe_b64encode(b'["800000481", "00", "2026-08-01"]')
        .decode(),  # the old kind of cursor, naming a BSN
        lambda c: "not a cursor",
    ],
)
def test_a_tampered_cursor_is_a_clear_422(api: Any, tamper: Any) -> None:
    _, client, operator = api
    first = client.get(YEAR + "/snapshot", params={"limit": 1}, headers=operator)
    bad = client.get(
        YEAR + "/snapshot",
        params={"limit": 1, "cursor": tamper(first.json()["next_cursor"])},
        headers=operator,
    )
    assert bad.status_code == 422 and "invalid cursor" in bad.json()["detail"]


def test_a_cursor_belongs_to_its_question(api: Any) -> None:
    _, client, operator = api
    cursor = client.get(
        YEAR + "/snapshot", params={"limit": 1}, headers=operator
    ).json()["next_cursor"]
    other_school = client.get(
        f"/v1/schools/02AB/years/{SJ}/snapshot",
        params={"limit": 1, "cursor": cursor},
        headers=operator,
    )
    other_day = client.get(
        YEAR + "/snapshot",
        params={"limit": 1, "cursor": cursor, "peildatum": "2026-09-01"},
        headers=operator,
    )
    assert other_school.status_code == 422 and other_day.status_code == 422
    # The same question with another page size is the same question.
    again = client.get(
        YEAR + "/snapshot", params={"limit": 5, "cursor": cursor}, headers=operator
    )
    assert again.status_code == 200 and len(again.json()["inschrijvingen"]) == 2


def test_a_cursor_is_signed_with_the_servers_own_key(
    api: Any, runtime: Runtime
) -> None:
    _, client, operator = api
    cursor = client.get(
        YEAR + "/snapshot", params={"limit": 1}, headers=operator
    ).json()["next_cursor"]
    keyed = runtime.settings.model_copy(
        update={"server_keys": {"cursor": SecretStr("another installation")}}
    )
    runtime.settings = keyed
    elsewhere = TestClient(create_app(runtime))
    answer = elsewhere.get(
        YEAR + "/snapshot", params={"limit": 1, "cursor": cursor}, headers=operator
    )
    assert answer.status_code == 422

