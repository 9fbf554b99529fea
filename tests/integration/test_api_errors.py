"""Refusals over the API as a client sees them: status and body per error."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.factories import SJ
from tests.intake_helpers import prepare
from tests.integration.test_access import login


def test_errors_map_to_their_status_and_body(runtime: Runtime) -> None:
    prepare(runtime)
    client = TestClient(create_app(runtime))
    own = login(client, runtime, "school01oe", Role.SCHOOL, runtime.now(), brin="01OE")
    year = f"/v1/schools/01OE/years/{SJ}"

    # Before the projector's first run the timeline has no live tables.
    unready = client.get(year + "/signals", headers=own)
    assert problem(unready, 503, "projection-not-ready") == (
        "projection timeline has no live tables yet"
    )
    assert unready.headers["retry-after"] == "5"

    bad_year = client.get("/v1/schools/01OE/years/2026-2028/signals", headers=own)
    assert problem(bad_year, 422, "invalid-schooljaar") == (
        "schooljaar '2026-2028' is not 'YYYY-YYYY+1'"
    )

    runtime.catch_up()
    unfunded = client.get(year + "/funding", headers=own)
    assert problem(unfunded, 404, "no-funding-statement") == (
        f"01OE {SJ}: no definitief or voorlopig foto yet"
    )
    unknown = client.get(year + "/fotos/bogus", headers=own)
    assert problem(unknown, 404, "no-such-foto").startswith("soort 'bogus' is not one of")
    missing = client.get(year + "/fotos/voorlopig", headers=own)
    assert problem(missing, 404, "no-such-foto") == f"no voorlopig foto for 01OE {SJ}"

    wrong = client.post(
        "/v1/auth/login",
        json={"login": "school01oe", "password": "not-the-one", "totp": "000000"},
    )
    problem(wrong, 401, "invalid-credentials")
    assert wrong.json()["reason"] == "invalid_credentials"

    nowhere = client.get("/v1/nowhere", headers=own)
    problem(nowhere, 404, "not-found")
    anonymous = client.get(year)
    problem(anonymous, 401, "unauthenticated")
    foreign = client.get("/v1/schools/02AB/years/" + SJ, headers=own)
    assert "own BRIN" in problem(foreign, 403, "forbidden")
    strange = client.get(year + "/snapshot", params={"limit": 0}, headers=own)
    assert problem(strange, 422, "invalid-request").startswith("query.limit")
    assert strange.json()["errors"][0]["loc"] == ["query", "limit"]


def problem(answer: Any, status: int, slug: str) -> str:
    """Check an RFC 9457 answer; its detail."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == f"urn:bron-vo-registry:problem:{slug}", body
    assert body["status"] == status and body["title"] and body["instance"]
    detail: str = body["detail"]
    return detail
