"""No server error on any input (issue 16, item 2): the crafted requests that
got a plain-text 500, a 403 for bad JSON or a record of an impossible date
now each get an RFC 9457 problem with a 4xx status, and change nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.factories import SJ
from tests.intake_helpers import ANNA, batch, period, prepare, rec, student
from tests.integration.test_access import login

YEAR = f"/v1/schools/01OE/years/{SJ}"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def api(runtime: Runtime) -> tuple[TestClient, dict[str, str], dict[str, str]]:
    """A client, a school's headers and an operator's."""
    prepare(runtime)
    runtime.catch_up()
    client = TestClient(create_app(runtime), raise_server_exceptions=False)
    at = runtime.now()
    school = login(client, runtime, "school01oe", Role.SCHOOL, at, brin="01OE")
    operator = login(client, runtime, "operator", Role.OPERATOR, at)
    return client, school, operator


def refused(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["type"].startswith("urn:")
    return body


def events(runtime: Runtime) -> int:
    with psycopg.connect(runtime.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM registry_events").fetchone()
    return int(row[0]) if row else 0


def b64(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor", [b64(5), b64({}), b64([1, 2, 3]), b64([None]), b64("zzz"), "%%%", "a.b"]
)
def test_a_tampered_cursor_is_refused(api: Any, cursor: str) -> None:
    client, school, operator = api
    snapshot = client.get(YEAR + "/snapshot", params={"cursor": cursor}, headers=school)
    assert "cursor" in refused(snapshot, 422)["detail"]
    national = client.get(
        "/v1/enrolments",
        params={"schooljaar": SJ, "valid_on": "2026-10-01", "cursor": cursor},
        headers=operator,
    )
    refused(national, 422)


def test_bodies_that_are_not_a_batch_are_refused_as_a_whole(
    runtime: Runtime, api: Any
) -> None:
    client, school, _ = api
    before = events(runtime)
    bodies = {
        "empty": b"",
        "not JSON": b"{not json",
        "a list": b"[1, 2, 3]",
        "deep": b'{"meldingen":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "NaN": batch(rec(1, student(ANNA)))
        .replace('"leerjaar": 1', '"leerjaar": NaN')
        .encode(),
        "infinite": batch(rec(1, student(ANNA)))
        .replace('"leerjaar": 1', '"leerjaar": 1e999')
        .encode(),
        "NUL in bsn": batch(rec(1, student(ANNA, bsn="1234\u00005678"))).encode(),
        "NUL in a name": batch(
            rec(1, student(ANNA, achternaam="Jan\u0000sen"))
        ).encode(),
        "far future": batch(
            rec(1, student(ANNA), inschrijving=period(ingangsdatum="9999-12-31"))
        ).encode(),
        "year one": batch(
            rec(1, student(ANNA), inschrijving=period(ingangsdatum="0001-08-01"))
        ).encode(),
        "huge number": batch(rec(2**40, student(ANNA))).encode(),
    }
    for why, body in bodies.items():
        answer = client.post("/v1/batches", content=body, headers={**school, **JSON})
        problem = refused(answer, 422)
        assert problem["type"].endswith("batch-refused"), (why, problem)
        json.dumps(problem, allow_nan=False)  # the answer itself is JSON
    assert events(runtime) == before


def test_a_million_items_or_many_faults_give_a_short_answer(api: Any) -> None:
    client, school, _ = api
    head = json.loads(batch())
    million = json.dumps({**head, "meldingen": [1] * 1_000_000}).encode()
    answer = client.post("/v1/batches", content=million, headers={**school, **JSON})
    (only,) = refused(answer, 422)["problems"]
    assert "at most 100000" in only["rule"]
    faulty = json.dumps({**head, "meldingen": [1] * 250}).encode()
    answer = client.post("/v1/batches", content=faulty, headers={**school, **JSON})
    problems = refused(answer, 422)["problems"]
    assert len(problems) == 101 and problems[-1]["rule"] == "and 150 more problems"


def test_the_body_must_be_json_and_not_too_large(
    runtime: Runtime, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, school, _ = api
    body = batch(rec(1, student(ANNA))).encode()
    for media in (
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/xml"},
    ):
        auth = {"Authorization": school["Authorization"]}
        answer = client.post("/v1/batches", content=body, headers={**auth, **media})
        refused(answer, 415)
    monkeypatch.setattr(runtime.settings, "max_body_bytes", 64 * 1024)
    big = client.post(
        "/v1/batches", content=body + b" " * 70_000, headers={**school, **JSON}
    )
    refused(big, 413)

    def streamed() -> Any:
        yield body
        yield b" " * 70_000

    chunked = client.post("/v1/batches", content=streamed(), headers={**school, **JSON})
    refused(chunked, 413)
    ok = client.post("/v1/batches", content=body, headers={**school, **JSON})
    assert ok.status_code == 200, ok.text


def test_query_values_out_of_range_are_refused(api: Any) -> None:
    client, school, operator = api
    asks = [
        (YEAR + "/fotos/voorlopig", {"versie": 2**40}, school),
        (YEAR + "/fotos/voorlopig", {"versie": 0}, school),
        (YEAR + "/fotos/diff", {"van": "definitief:99999999999"}, school),
        (YEAR + "/fotos/diff", {"van": "definitief:x"}, school),
        (YEAR + "/snapshot", {"stand_per": "0001-01-01T00:00:00+00:00"}, school),
        (YEAR + "/snapshot", {"stand_per": "9999-12-31T00:00:00+00:00"}, school),
        (YEAR + "/signals", {"stand_per": "9999-12-31T00:00:00+00:00"}, school),
        (YEAR + "/snapshot", {"peildatum": "2031-10-01"}, school),  # another year
        ("/v1/schools/01OE/years/0001-0002/snapshot", {}, school),
        ("/v1/schools/01OE/years/9998-9999/signals", {}, school),
        ("/v1/enrolments", {"schooljaar": SJ, "valid_on": "9999-01-01"}, operator),
    ]
    for path, params, headers in asks:
        answer = client.get(path, params=params, headers=headers)
        refused(answer, 422)


def test_an_unforeseen_failure_is_a_problem_too(
    api: Any, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    client, school, _ = api

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("something with 800000481 in it")

    monkeypatch.setattr(runtime.registry, "school_year", broken)
    answer = client.get(YEAR, headers=school)
    problem = refused(answer, 500)
    assert "800000481" not in answer.text and problem["type"].endswith("internal-error")
