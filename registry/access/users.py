"""Users and sessions in PostgreSQL, beside (not in) the event log.

Password hashes and second-factor secrets are credentials, not facts of the
register: they must be replaceable and erasable, which an immutable log is not.
Every change is written to an audit table instead.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from registry.access import policy, throttle
from registry.access.policy import (
    AccessError,
    InvalidCredentials,
    PasswordChangeRequired,
    PasswordExpired,
    Role,
)
from registry.infrastructure.pools import connect

REFUSED = "login name, password or code is wrong"
UNKNOWN = "(unknown name)"  # audited instead of a name no user has


@dataclass(frozen=True)
class Principal:
    login: str
    role: Role
    brin: str | None
    recipient: str | None


@dataclass(frozen=True)
class NewCredentials:
    login: str
    initial_password: str
    totp_secret: str
    totp_uri: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccessService:
    def __init__(self, url: str, *, max_age_days: int = 42, session_hours: int = 8):
        self.url = url
        self.max_age_days = max_age_days
        self.session_hours = session_hours

    def _conn(self) -> AbstractContextManager[psycopg.Connection[dict[str, Any]]]:
        return connect(self.url, dict_row)

    def _audit(
        self, conn: psycopg.Connection[Any], login: str, action: str, at: datetime
    ) -> None:
        conn.execute(
            "INSERT INTO access_audit (at, login, action) VALUES (%s, %s, %s)",
            (at, login, action),
        )

    def add_user(
        self,
        login: str,
        role: Role,
        at: datetime,
        *,
        brin: str | None = None,
        recipient: str | None = None,
    ) -> NewCredentials:
        if (role in (Role.SCHOOL, Role.ACCOUNTANT)) != (brin is not None):
            raise AccessError("roles school and accountant need exactly one --brin")
        if (role == Role.AGENCY) != (recipient is not None):
            raise AccessError("role agency needs exactly one --recipient")
        password, secret = secrets.token_urlsafe(12), policy.new_totp_secret()
        with self._conn() as conn:
            try:
                conn.execute(
                    "INSERT INTO access_users VALUES (%s,%s,%s,%s,%s,true,%s,%s)",
                    (
                        login,
                        role.value,
                        brin,
                        recipient,
                        policy.hash_password(password),
                        at,
                        secret,
                    ),
                )
            except psycopg.errors.UniqueViolation:
                raise AccessError(
                    f"login {login!r} exists; use `users reset`"
                ) from None
            self._audit(conn, login, "added", at)
        return NewCredentials(login, password, secret, policy.totp_uri(secret, login))

    def reset(
        self,
        login: str,
        at: datetime,
        *,
        new_second_factor: bool = False,
    ) -> NewCredentials:
        password = secrets.token_urlsafe(12)
        with self._conn() as conn:
            row = conn.execute(
                "UPDATE access_users SET password_hash=%s, must_change=true, "
                "password_set_at=%s, totp_secret=CASE WHEN %s THEN %s ELSE totp_secret END "
                "WHERE login=%s RETURNING totp_secret",
                (
                    policy.hash_password(password),
                    at,
                    new_second_factor,
                    policy.new_totp_secret(),
                    login,
                ),
            ).fetchone()
            if row is None:
                raise AccessError(f"no user {login!r}")
            conn.execute("DELETE FROM access_sessions WHERE login=%s", (login,))
            self._audit(conn, login, "reset", at)
        secret = row["totp_secret"]
        return NewCredentials(login, password, secret, policy.totp_uri(secret, login))

    def _verify(
        self,
        conn: psycopg.Connection[dict[str, Any]],
        login: str,
        password: str,
        totp: str,
        now: datetime,
        source: str,
    ) -> tuple[dict[str, Any], int]:
        """The user and the code's time step, if every factor checks out; else
        one refusal, counted against the name and the source (a wait or lock
        refuses before any check)."""
        keys = throttle.subjects(login, source)
        throttle.check(conn, keys, now)
        row = conn.execute(
            "SELECT * FROM access_users WHERE login=%s", (login,)
        ).fetchone()
        if row is None:
            policy.verify_no_password(password)
            self._refuse(conn, keys, None, "unknown name", now, source)
        elif not policy.verify_password(row["password_hash"], password):
            self._refuse(conn, keys, login, "credentials", now, source)
        else:
            step = policy.totp_step(
                row["totp_secret"], totp, now, row["totp_last_step"]
            )
            if step is None:
                self._refuse(conn, keys, login, "second factor", now, source)
            else:
                throttle.succeeded(conn, keys)
                return row, step
        raise AssertionError("unreachable")

    def _refuse(
        self,
        conn: psycopg.Connection[dict[str, Any]],
        keys: list[tuple[str, str]],
        login: str | None,
        why: str,
        now: datetime,
        source: str,
    ) -> None:
        """Count and audit a failed step, then refuse as every step is refused.
        A name no user has is not audited (it may be anything, even a password
        typed in the wrong field), only counted; a lock is."""
        if login is not None:
            self._audit(conn, login, f"login refused: {why}", now)
        for scope in throttle.failed(conn, keys, now):
            who = login or UNKNOWN
            subject = f"source {source}" if scope == "source" else "name"
            self._audit(conn, who, f"locked: {subject} after failed logins", now)
        conn.commit()  # the refusal is counted even though the caller fails
        raise InvalidCredentials(REFUSED)

    def _use_step(
        self, conn: psycopg.Connection[Any], login: str, step: int
    ) -> None:
        conn.execute(
            "UPDATE access_users SET totp_last_step = %s WHERE login = %s",
            (step, login),
        )

    def login(
        self,
        login: str,
        password: str,
        totp: str,
        now: datetime,
        source: str = "local",
    ) -> str:
        """A session token for a user whose password and second factor check
        out; `source`: the client's address, for throttling."""
        with self._conn() as conn:
            row, step = self._verify(conn, login, password, totp, now, source)
            if row["must_change"]:
                raise PasswordChangeRequired("replace the initial password first")
            if policy.password_expired(row["password_set_at"], now, self.max_age_days):
                raise PasswordExpired(
                    f"the password is older than {self.max_age_days} days; change it"
                )
            self._use_step(conn, login, step)
            token = secrets.token_urlsafe(32)
            conn.execute(
                "INSERT INTO access_sessions VALUES (%s, %s, %s)",
                (_token_hash(token), login, now + timedelta(hours=self.session_hours)),
            )
            self._audit(conn, login, "login", now)
        return token

    def logout(self, token: str, now: datetime) -> None:
        with self._conn() as conn:
            row = conn.execute(
                "DELETE FROM access_sessions WHERE token_hash = %s RETURNING login",
                (_token_hash(token),),
            ).fetchone()
            if row is not None:
                self._audit(conn, row["login"], "logout", now)

    def change_password(
        self,
        login: str,
        old: str,
        new: str,
        totp: str,
        now: datetime,
        source: str = "local",
    ) -> None:
        """Replace the password; every session of the user ends (whoever held
        one must log in with the new password)."""
        with self._conn() as conn:
            _, step = self._verify(conn, login, old, totp, now, source)
            policy.check_new_password(new, old, login)
            self._use_step(conn, login, step)
            conn.execute(
                "UPDATE access_users SET password_hash=%s, must_change=false, "
                "password_set_at=%s WHERE login=%s",
                (policy.hash_password(new), now, login),
            )
            conn.execute("DELETE FROM access_sessions WHERE login=%s", (login,))
            self._audit(conn, login, "password changed", now)

    def locks(self, now: datetime) -> list[dict[str, Any]]:
        """Who must wait now: accounts by login (a name no user has shows as
        such), sources by address."""
        with self._conn() as conn:
            waiting = throttle.waiting(conn, now)
            names = {
                throttle.account_subject(r["login"]): r["login"]
                for r in conn.execute("SELECT login FROM access_users").fetchall()
            }
        return [
            {
                "scope": w["scope"],
                "who": names.get(w["subject"], UNKNOWN)
                if w["scope"] == "account"
                else w["subject"],
                "failures": w["failures"],
                "until": w["until"],
            }
            for w in waiting
        ]

    def unlock(self, login: str, now: datetime) -> bool:
        with self._conn() as conn:
            done = throttle.unlock(conn, login)
            if done:
                self._audit(conn, login, "unlocked", now)
        return done

    def principal(self, token: str, now: datetime) -> Principal:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT u.* FROM access_sessions s JOIN access_users u USING (login) "
                "WHERE s.token_hash=%s AND s.expires_at > %s AND NOT u.must_change",
                (_token_hash(token), now),
            ).fetchone()
        if row is None:
            raise InvalidCredentials("no valid session; log in again")
        if policy.password_expired(row["password_set_at"], now, self.max_age_days):
            raise PasswordExpired("the password has expired; change it")
        return Principal(row["login"], Role(row["role"]), row["brin"], row["recipient"])
