"""Login throttling: growing waits, then a temporary lock, per account and per
source address.

Failures are counted per login name as typed (known or not, so a lock tells
nothing about which names exist; the name is stored hashed, so a password typed
into the name field is not kept) and per source address. After `free` failures
each further attempt must wait, twice as long each time up to `max_wait`; at
`lock_after` failures the subject is locked for `lock`. Attempts during a wait
are refused before any password is checked, so guessing makes no progress. A
success clears the account's and the source's count. Counts idle for a day are
dropped, which bounds the table by the rate a source may fail at.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from registry.access.policy import LoginThrottled

IDLE = timedelta(days=1)  # a count idle this long starts again


@dataclass(frozen=True)
class Limits:
    free: int  # failures without a wait
    lock_after: int  # failures that lock
    first_wait: timedelta
    max_wait: timedelta
    lock: timedelta

    def wait_until(self, failures: int, last_at: datetime) -> datetime | None:
        if failures >= self.lock_after:
            return last_at + self.lock
        if failures <= self.free:
            return None
        wait: timedelta = self.first_wait * 2 ** (failures - self.free - 1)
        return last_at + min(wait, self.max_wait)


ACCOUNT = Limits(3, 10, timedelta(seconds=1), timedelta(minutes=5), timedelta(minutes=15))
# Many users may share one address (a school's network): a wider margin.
SOURCE = Limits(20, 100, timedelta(seconds=1), timedelta(minutes=5), timedelta(minutes=15))
LIMITS = {"account": ACCOUNT, "source": SOURCE}


def account_subject(login: str) -> str:
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()


def subjects(login: str, source: str) -> list[tuple[str, str]]:
    return [("account", account_subject(login)), ("source", source)]


def check(
    conn: psycopg.Connection[Any], keys: list[tuple[str, str]], now: datetime
) -> None:
    """Refuse (LoginThrottled) while any of `keys` must wait."""
    rows = conn.execute(
        "SELECT scope, failures, last_at FROM access_throttle "
        "WHERE (scope, subject) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall()
    waits = [
        until
        for row in rows
        if now - row["last_at"] < IDLE
        and (until := LIMITS[row["scope"]].wait_until(row["failures"], row["last_at"]))
        and until > now
    ]
    if waits:
        seconds = max(1, int((max(waits) - now).total_seconds() + 0.999))
        raise LoginThrottled(
            f"too many failed attempts; try again in {seconds} s", seconds
        )


def failed(
    conn: psycopg.Connection[Any], keys: list[tuple[str, str]], now: datetime
) -> list[str]:
    """Count a failure against each key; the scopes that are locked by it."""
    conn.execute("DELETE FROM access_throttle WHERE last_at < %s", (now - IDLE,))
    locked = []
    for scope, subject in keys:
        row = conn.execute(
            "INSERT INTO access_throttle VALUES (%s, %s, 1, %s) "
            "ON CONFLICT (scope, subject) DO UPDATE SET "
            "failures = access_throttle.failures + 1, last_at = excluded.last_at "
            "RETURNING failures",
            (scope, subject, now),
        ).fetchone()
        assert row is not None
        if row["failures"] == LIMITS[scope].lock_after:
            locked.append(scope)
    return locked


def succeeded(conn: psycopg.Connection[Any], keys: list[tuple[str, str]]) -> None:
    for scope, subject in keys:
        conn.execute(
            "DELETE FROM access_throttle WHERE scope = %s AND subject = %s",
            (scope, subject),
        )


def unlock(conn: psycopg.Connection[Any], login: str) -> bool:
    cur = conn.execute(
        "DELETE FROM access_throttle WHERE scope = 'account' AND subject = %s",
        (account_subject(login),),
    )
    return cur.rowcount > 0


def waiting(conn: psycopg.Connection[Any], now: datetime) -> list[dict[str, Any]]:
    """Every subject that must wait now: scope, subject, failures, until."""
    out = []
    for row in conn.execute(
        "SELECT scope, subject, failures, last_at FROM access_throttle "
        "ORDER BY last_at"
    ).fetchall():
        until = LIMITS[row["scope"]].wait_until(row["failures"], row["last_at"])
        if until is not None and until > now and now - row["last_at"] < IDLE:
            out.append({**row, "until": until})
    return out
