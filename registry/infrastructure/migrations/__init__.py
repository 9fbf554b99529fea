"""Numbered migrations of what cannot be rebuilt from the log: the event store
and the side tables beside it (access, intake, population, fotos, the outbox,
the relay's and the projector's bookkeeping). The projections' own schemas are
not migrated: a new version is built beside the live one from the log.

A migration is a file in `versions/`: `NNNN_name.sql`, or `NNNN_name.py` with
`apply(conn, url, settings)` for what SQL alone cannot say. `migrate` applies
the pending ones in order, each in a transaction of its own that also records
it in `registry_migrations` (version, name, checksum, applied_at, applied_by).
Runners hold an advisory lock, so processes starting at once apply each
migration once. An applied migration's file must never change: a checksum
that differs from the recorded one is refused, before anything is applied.

Run as the role that owns the schema (`registry db migrate`); services run as
a role that does not, and only `check_current`.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import psycopg

from registry.config import Settings
from registry.infrastructure.migrations import grants
from registry.infrastructure.migrations.errors import (
    DatabaseNotMigrated,
    MigrationChanged,
    MigrationError,
    UnknownRole,
)
from registry.infrastructure.pools import connect
from registry.infrastructure.redact import error_text

VERSIONS = "registry.infrastructure.migrations.versions"
TABLE = "registry_migrations"
FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.(sql|py)")
CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS registry_migrations (
  version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL DEFAULT current_user)
"""
LOCK = "SELECT pg_advisory_lock(hashtext('registry_migrations'))"
# Errors of the connection itself are the database being unavailable, not a
# migration's fault: they propagate as they are (exit 3, try again).
UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError)
__all__ = [
    "DatabaseNotMigrated",
    "Migration",
    "MigrationChanged",
    "MigrationError",
    "UnknownRole",
    "check_current",
    "migrate",
    "shipped",
    "state",
]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    kind: str  # "sql" or "py"
    text: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    @property
    def checksum(self) -> str:
        # Line endings as a checkout may convert them are not a change.
        return hashlib.sha256(self.text.replace("\r\n", "\n").encode()).hexdigest()


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: datetime
    applied_by: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class State:
    applied: list[Applied]
    pending: list[Migration]
    changed: list[Migration]  # applied, but the file differs now
    unknown: list[Applied]  # applied by a newer release: left alone

    def refuse_changed(self) -> None:
        if self.changed:
            labels = ", ".join(m.label for m in self.changed)
            raise MigrationChanged(
                f"applied migration(s) {labels} changed since they were applied "
                "(checksum differs): never edit an applied migration; restore "
                "it and add a new one"
            )


@cache
def shipped() -> tuple[Migration, ...]:
    """The migrations in `versions/`, by number; two files of one number are
    refused (two branches that each added the next one)."""
    found: dict[int, Migration] = {}
    for entry in resources.files(VERSIONS).iterdir():
        match = FILE_NAME.fullmatch(entry.name)
        if match is None:
            continue
        version = int(match[1])
        if version in found:
            raise MigrationError(f"two migrations numbered {version:04d}")
        found[version] = Migration(
            version, match[2], match[3], entry.read_text(encoding="utf-8")
        )
    return tuple(found[v] for v in sorted(found))


def state(
    conn: psycopg.Connection[Any], migrations: Sequence[Migration] | None = None
) -> State:
    """What `conn`'s database has applied of `migrations` (the shipped ones)."""
    migrations = shipped() if migrations is None else migrations
    rows: list[tuple[Any, ...]] = []
    if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone() != (None,):
        rows = conn.execute(
            "SELECT version, name, checksum, applied_at, applied_by "
            "FROM registry_migrations ORDER BY version"
        ).fetchall()
    applied = [Applied(*row) for row in rows]
    by_version = {a.version: a for a in applied}
    known = {m.version for m in migrations}
    return State(
        applied=applied,
        pending=[m for m in migrations if m.version not in by_version],
        changed=[
            m
            for m in migrations
            if m.version in by_version and by_version[m.version].checksum != m.checksum
        ],
        unknown=[a for a in applied if a.version not in known],
    )


def migrate(
    url: str,
    settings: Settings,
    *,
    grant_to: str | None = None,
    dry_run: bool = False,
    migrations: Sequence[Migration] | None = None,
) -> list[Migration]:
    """Apply the pending migrations on `url` (the schema owner's); with
    `grant_to`, then grant that role what the services need. The ones applied,
    or with `dry_run` the ones that would be (nothing changes)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if grant_to is not None:
            grants.check_role(conn, grant_to)  # before anything changes
        if dry_run:
            current = state(conn, migrations)
            current.refuse_changed()
            return current.pending
        conn.execute(LOCK)  # held until the connection closes
        conn.execute(CREATE_TABLE)
        current = state(conn, migrations)
        current.refuse_changed()
        for migration in current.pending:
            _apply(conn, migration, url, settings)
        if grant_to is not None:
            with conn.transaction():
                grants.grant(conn, grant_to)
        return current.pending


def _apply(
    conn: psycopg.Connection[Any], migration: Migration, url: str, settings: Settings
) -> None:
    try:
        with conn.transaction():
            if migration.kind == "sql":
                conn.execute(migration.text.encode())
            else:
                module = importlib.import_module(f"{VERSIONS}.{migration.label}")
                module.apply(conn, url, settings)
            conn.execute(
                "INSERT INTO registry_migrations (version, name, checksum) "
                "VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except UNAVAILABLE:
        raise
    except psycopg.Error as e:
        raise MigrationError(
            f"migration {migration.label} failed ({error_text(e)}); nothing of "
            "it was applied: does this role own the schema?"
        ) from e


def check_current(url: str) -> None:
    """Refuse a database that lacks a shipped migration, or whose applied ones
    changed: what a service checks at start instead of making tables."""
    try:
        with connect(url) as conn:
            current = state(conn)
    except psycopg.errors.InsufficientPrivilege as e:
        raise DatabaseNotMigrated(
            "database not migrated for this role: it may not read "
            f"{TABLE}; run `registry db migrate --grant-to ROLE`"
        ) from e
    current.refuse_changed()
    if current.pending:
        labels = ", ".join(m.label for m in current.pending)
        raise DatabaseNotMigrated(
            f"database not migrated: run `registry db migrate` (pending: {labels})"
        )
