"""Refusals over the API as a client sees them: status and body per error."""

from __future__ import annotations

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
    assert unready.status_code == 503
    assert unready.json() == {"detail": "projection timeline has no live tables yet"}

    bad_year = client.get("/v1/schools/01OE/years/2026-2028/signals", headers=own)
    assert bad_year.status_code == 422
    assert bad_year.json() == {"detail": "schooljaar '2026-2028' is not 'YYYY-YYYY+1'"}

    runtime.catch_up()
    unfunded = client.get(year + "/funding", headers=own)
    assert unfunded.status_code == 404
    assert unfunded.json() == {
        "detail": f"01OE {SJ}: no definitief or voorlopig foto yet"
    }
    unknown = client.get(year + "/fotos/bogus", headers=own)
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("soort 'bogus' is not one of")
    missing = client.get(year + "/fotos/voorlopig", headers=own)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"no voorlopig foto for 01OE {SJ}"}

    wrong = client.post(
        "/v1/auth/login",
        json={"login": "school01oe", "password": "not-the-one", "totp": "000000"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["reason"] == "invalid_credentials"
