"""Login that resists guessing (issue 16, item 1): one refusal for every failed
step, growing waits and a temporary lock per account and per source, each
code once, the same work for an unknown name, logout, a password change that
ends every session, common passwords refused, a bounded audit of failures, and
`serve` on the system clock only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from registry.access import policy
from registry.access.policy import (
    InvalidCredentials,
    LoginThrottled,
    Role,
    WeakPassword,
)
from registry.access.users import NewCredentials
from registry.api.app import create_app
from registry.bootstrap import Runtime
from registry.cli.main import app
from tests.conftest import utc

T0 = utc(2026, 8, 1, 9)
PASSWORD = "quiet-harbour-lantern"


def code(creds: NewCredentials, at: datetime, step: int = 0) -> str:
    return pyotp.TOTP(creds.totp_secret).at(at, counter_offset=step)


def operator(runtime: Runtime, at: datetime) -> NewCredentials:
    """An operator with a password of their own (the code of `at` is used)."""
    creds = runtime.access.add_user("op", Role.OPERATOR, at)
    runtime.access.change_password(
        "op", creds.initial_password, PASSWORD, code(creds, at), at
    )
    return creds


@pytest.fixture
def user(runtime: Runtime) -> NewCredentials:
    return operator(runtime, T0)


@pytest.fixture
def api_user(runtime: Runtime) -> NewCredentials:
    """The same, at the API's now."""
    return operator(runtime, runtime.now())


def audit(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.access._conn() as conn:
        rows = conn.execute("SELECT login, action FROM access_audit ORDER BY id")
        return [(r["login"], r["action"]) for r in rows.fetchall()]


def fail(runtime: Runtime, at: datetime, login: str = "op", source: str = "s1") -> Any:
    """One failed attempt; the refusal (or wait) it got."""
    with pytest.raises((InvalidCredentials, LoginThrottled)) as refused:
        runtime.access.login(login, "wrong-guess", "000000", at, source)
    return refused.value


def test_every_failed_step_gets_the_same_refusal(
    runtime: Runtime, api_user: NewCredentials
) -> None:
    client = TestClient(create_app(runtime))
    at = runtime.now()
    wrong_code = "000000" if code(api_user, at) != "000000" else "111111"
    attempts = {
        "wrong password": {"login": "op", "password": "nope-nope", "totp": code(api_user, at)},
        "wrong code": {"login": "op", "password": PASSWORD, "totp": wrong_code},
        "unknown name": {"login": "nobody", "password": PASSWORD, "totp": code(api_user, at)},
    }
    answers = {
        why: client.post("/v1/auth/login", json=body) for why, body in attempts.items()
    }
    assert {why: a.status_code for why, a in answers.items()} == dict.fromkeys(
        attempts, 401
    )
    assert len({a.text for a in answers.values()}) == 1, answers
    assert answers["wrong code"].json()["reason"] == "invalid_credentials"


def test_failures_make_an_account_wait_then_lock_even_the_right_password(
    runtime: Runtime, user: NewCredentials
) -> None:
    access, at = runtime.access, T0 + timedelta(minutes=1)
    for _ in range(3):  # free
        assert isinstance(fail(runtime, at), InvalidCredentials)
    assert isinstance(fail(runtime, at), InvalidCredentials)  # the 4th: a wait now
    waited = fail(runtime, at)
    assert isinstance(waited, LoginThrottled) and waited.retry_after == 1
    with pytest.raises(LoginThrottled):  # the right password makes no progress
        access.login("op", PASSWORD, code(user, at), at, "s1")
    # Each further failure doubles the wait: 2, 4, 8, 16, 32 s.
    for wait in (1, 2, 4, 8, 16):
        at += timedelta(seconds=wait)
        assert isinstance(fail(runtime, at), InvalidCredentials)
    at += timedelta(seconds=32)
    assert isinstance(fail(runtime, at), InvalidCredentials)  # the 10th: locked
    assert ("op", "locked: name after failed logins") in audit(runtime)
    locks = access.locks(at)
    assert [(lock["scope"], lock["who"]) for lock in locks] == [("account", "op")]
    assert locks[0]["until"] == at + timedelta(minutes=15)
    later = at + timedelta(minutes=14)
    with pytest.raises(LoginThrottled) as locked:
        access.login("op", PASSWORD, code(user, later), later, "s2")
    assert locked.value.retry_after == 60
    after = at + timedelta(minutes=15)
    assert access.login("op", PASSWORD, code(user, after), after, "s2")
    assert access.locks(after) == []  # a success clears the count


def test_an_operator_lifts_a_lock(runtime: Runtime, user: NewCredentials) -> None:
    at = T0 + timedelta(minutes=1)
    for i in range(10):
        fail(runtime, at + timedelta(minutes=6 * i))
    at += timedelta(minutes=54)
    with pytest.raises(LoginThrottled):
        runtime.access.login("op", PASSWORD, code(user, at), at, "s1")
    assert runtime.access.unlock("op", at)
    assert runtime.access.login("op", PASSWORD, code(user, at), at, "s1")
    assert ("op", "unlocked") in audit(runtime)


def test_a_source_failing_on_many_names_waits_and_leaves_no_names(
    runtime: Runtime, user: NewCredentials
) -> None:
    at = T0 + timedelta(minutes=1)
    before = audit(runtime)
    names = [f"guess{i:03d}" for i in range(21)]
    for name in names:
        assert isinstance(fail(runtime, at, name, "10.0.0.9"), InvalidCredentials)
    assert isinstance(fail(runtime, at, "guess999", "10.0.0.9"), LoginThrottled)
    with pytest.raises(LoginThrottled):  # a real user behind that source waits too
        runtime.access.login("op", PASSWORD, code(user, at), at, "10.0.0.9")
    # From elsewhere the user is not held up.
    assert runtime.access.login("op", PASSWORD, code(user, at), at, "10.0.0.10")
    added = audit(runtime)[len(before) :]
    assert not [a for a in added if any(n in a[0] or n in a[1] for n in names)]
    assert [a for a in added if a[1] != "login"] == []  # no row per failure


def test_a_code_works_once(runtime: Runtime, user: NewCredentials) -> None:
    at = T0 + timedelta(minutes=5)
    assert runtime.access.login("op", PASSWORD, code(user, at), at)
    with pytest.raises(InvalidCredentials):
        runtime.access.login("op", PASSWORD, code(user, at), at)
    with pytest.raises(InvalidCredentials):  # nor an earlier one of the window
        runtime.access.login("op", PASSWORD, code(user, at, -1), at)
    assert runtime.access.login("op", PASSWORD, code(user, at, 1), at)


def test_an_unknown_name_costs_a_password_check(
    runtime: Runtime, user: NewCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = policy.verify_password

    def counted(stored: str, password: str) -> bool:
        checks.append(password)
        return real(stored, password)

    monkeypatch.setattr(policy, "verify_password", counted)
    at = T0 + timedelta(minutes=5)
    fail(runtime, at, "nobody")
    fail(runtime, at, "op")
    assert checks == ["wrong-guess", "wrong-guess"]


def test_logout_ends_the_session(runtime: Runtime, api_user: NewCredentials) -> None:
    client = TestClient(create_app(runtime))
    at = runtime.now()
    body = {"login": "op", "password": PASSWORD, "totp": code(api_user, at, 1)}
    token = client.post("/v1/auth/login", json=body).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/me", headers=headers).status_code == 200
    assert client.post("/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/v1/me", headers=headers).status_code == 401
    assert ("op", "logout") in audit(runtime)


def test_a_password_change_ends_every_session(
    runtime: Runtime, api_user: NewCredentials
) -> None:
    client = TestClient(create_app(runtime))
    at = runtime.now()
    steps = [at + timedelta(seconds=30 * k) for k in (1, 2, 3)]
    tokens = [
        runtime.access.login("op", PASSWORD, code(api_user, t), t) for t in steps[:2]
    ]
    new = "silver-meadow-compass"
    runtime.access.change_password(
        "op", PASSWORD, new, code(api_user, steps[2]), steps[2]
    )
    for token in tokens:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


@pytest.mark.parametrize(
    "weak", ["aaaaaaaa", "password", "wachtwoord", "Welkom01", "12345678", "op-op-op-op"]
)
def test_common_and_guessable_passwords_are_refused(
    runtime: Runtime, api_user: NewCredentials, weak: str
) -> None:
    at = runtime.now()
    with pytest.raises(WeakPassword, match="too easy to guess"):
        runtime.access.change_password("op", PASSWORD, weak, code(api_user, at, 1), at)
    client = TestClient(create_app(runtime))
    body = {
        "login": "op",
        "password": PASSWORD,
        "new_password": weak,
        "totp": code(api_user, at, 1),  # a refused change uses no code
    }
    answer = client.post("/v1/auth/password", json=body)
    assert answer.status_code == 422 and answer.json()["reason"] == "weak_password"


def test_serve_refuses_the_simulated_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(a))
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and served == []
    assert "system clock" in result.output
