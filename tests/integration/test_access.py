"""Seed steps 2–3: initial password, 8+ characters, 42-day expiry, TOTP, roles by BRIN."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from registry.access.policy import (
    InvalidCredentials,
    PasswordChangeRequired,
    PasswordExpired,
    Role,
)
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.conftest import utc
from tests.factories import SJ, school

T0 = utc(2026, 8, 1)


def code(secret: str, at=T0, step: int = 0) -> str:  # type: ignore[no-untyped-def]
    """The code of `at`'s time step (`step` later: each code works once)."""
    return pyotp.TOTP(secret).at(at, counter_offset=step)


def test_first_login_needs_a_new_password_then_expiry_after_42_days(
    runtime: Runtime,
) -> None:
    access = runtime.access
    creds = access.add_user("admin01oe", Role.SCHOOL, T0, brin="01OE")
    with pytest.raises(PasswordChangeRequired):
        access.login("admin01oe", creds.initial_password, code(creds.totp_secret), T0)
    with pytest.raises(Exception, match="at least 8"):
        access.change_password(
            "admin01oe", creds.initial_password, "short", code(creds.totp_secret), T0
        )
    access.change_password(
        "admin01oe",
        creds.initial_password,
        "a-good-passphrase",
        code(creds.totp_secret),
        T0,
    )
    assert access.login(
        "admin01oe", "a-good-passphrase", code(creds.totp_secret, T0, 1), T0
    )
    later = T0 + timedelta(days=42)
    with pytest.raises(PasswordExpired):
        access.login(
            "admin01oe", "a-good-passphrase", code(creds.totp_secret, later), later
        )
    access.change_password(
        "admin01oe",
        "a-good-passphrase",
        "another-passphrase",
        code(creds.totp_secret, later),
        later,
    )
    assert access.login(
        "admin01oe", "another-passphrase", code(creds.totp_secret, later, 1), later
    )


def test_bad_totp_and_bad_password_are_refused(runtime: Runtime) -> None:
    access = runtime.access
    creds = access.add_user("op", Role.OPERATOR, T0)
    access.change_password(
        "op", creds.initial_password, "operator-pass", code(creds.totp_secret), T0
    )
    wrong = "000000" if code(creds.totp_secret) != "000000" else "111111"
    with pytest.raises(InvalidCredentials):
        access.login("op", "operator-pass", wrong, T0)
    with pytest.raises(InvalidCredentials):
        access.login("op", "wrong-password", code(creds.totp_secret), T0)
    with pytest.raises(InvalidCredentials):
        access.login("nobody", "operator-pass", code(creds.totp_secret), T0)


def test_roles_need_their_scope(runtime: Runtime) -> None:
    with pytest.raises(Exception, match="brin"):
        runtime.access.add_user("x", Role.SCHOOL, T0)
    with pytest.raises(Exception, match="recipient"):
        runtime.access.add_user("y", Role.AGENCY, T0)


def login(
    client: TestClient, runtime: Runtime, user: str, role: Role, at=T0, **scope: str
) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """A session for a new user; `at` is the API's now (the last recorded time)."""
    creds = runtime.access.add_user(user, role, at, **scope)
    body = {
        "login": user,
        "password": creds.initial_password,
        "totp": code(creds.totp_secret, at),
    }
    first = client.post("/v1/auth/login", json=body)
    assert (
        first.status_code == 403
        and first.json()["reason"] == "password_change_required"
    )
    changed = client.post(
        "/v1/auth/password", json={**body, "new_password": "long-enough-1"}
    )
    assert changed.status_code == 204, changed.text
    again = {**body, "password": "long-enough-1", "totp": code(creds.totp_secret, at, 1)}
    token = client.post("/v1/auth/login", json=again)
    assert token.status_code == 200, token.text
    # JSON is what every body of the API is.
    return {
        "Authorization": f"Bearer {token.json()['token']}",
        "Content-Type": "application/json",
    }


def test_the_api_authorises_every_route_by_role_and_brin(runtime: Runtime) -> None:
    runtime.registry.load_schools([school(), school("02AB")], T0)
    runtime.registry.declare_complete("01OE", SJ, T0)
    client = TestClient(create_app(runtime))
    url = "/v1/schools/{}/years/" + SJ
    assert client.get(url.format("01OE")).status_code == 401
    own = login(client, runtime, "school01oe", Role.SCHOOL, brin="01OE")
    assert (
        client.get(url.format("01OE"), headers=own).json()["stage"]
        == "completeness_declared"
    )
    refused = client.get(url.format("02AB"), headers=own)
    assert refused.status_code == 403 and "own BRIN" in refused.json()["detail"]
    agency = login(client, runtime, "cbs", Role.AGENCY, recipient="cbs")
    assert client.get(url.format("01OE"), headers=agency).status_code == 403
    operator = login(client, runtime, "operator", Role.OPERATOR)
    assert client.get(url.format("02AB"), headers=operator).status_code == 404
    assert client.get("/v1/me", headers=own).json()["brin"] == "01OE"
    bad = client.post(
        "/v1/auth/login",
        json={"login": "operator", "password": "long-enough-1", "totp": "12345"},
    )
    assert bad.status_code == 401 and bad.json()["reason"] == "invalid_credentials"
    assert (
        client.get("/v1/me", headers={"Authorization": "Bearer forged"}).status_code
        == 401
    )


def test_deliveries_over_the_api_are_scoped_by_brin_and_soort(runtime: Runtime) -> None:
    from tests.intake_helpers import ANNA, batch, prepare, rec, student

    prepare(runtime)
    runtime.registry.load_schools([school("03CD")], T0)  # the API's clock: the log's
    client = TestClient(create_app(runtime))
    own = login(client, runtime, "school01oe", Role.SCHOOL, brin="01OE")
    accountant = login(client, runtime, "acc01oe", Role.ACCOUNTANT, brin="01OE")
    raw = batch(rec(1, student(ANNA)))
    trial = client.post("/v1/batches?dry_run=true", content=raw, headers=own)
    assert trial.status_code == 200 and trial.json()["goedgekeurd"] == 1
    url = "/v1/batches/01OE/0/2026-2027/1/feedback"
    assert client.get(url, headers=own).status_code == 404
    assert (
        client.post("/v1/batches", content=raw, headers=accountant).status_code == 403
    )
    done = client.post("/v1/batches", content=raw, headers=own)
    assert done.status_code == 200, done.text
    assert client.get(url, headers=own).json() == done.json()
    assert client.get(url, headers=accountant).status_code == 403
    other = client.post(
        "/v1/batches", content=batch(rec(1, student(ANNA)), brin="02AB"), headers=own
    )
    assert other.status_code == 403
    refused = client.post(
        "/v1/batches",
        content=batch(rec(1, student(ANNA)), number=2, format="x"),
        headers=own,
    )
    assert refused.status_code == 422 and refused.json()["problems"]
    conflict = client.post(
        "/v1/batches", content=batch(rec(2, student(ANNA))), headers=own
    )
    assert conflict.status_code == 409
