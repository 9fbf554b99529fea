"""What the services' role may do, granted by the role that owns the schema
(`registry db migrate --grant-to ROLE`): read and write the rows of every
table of the registry and use its sequences, but not change or drop a table.

CREATE on the database lets it make the projections' schemas (blue/green
versions, built from the log by the projector); it owns those, and only those.
Default privileges give it the same rights on the tables later migrations add.
`registry_migrations` it may only read: a service checks it at start."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.infrastructure.event_store import EVENTS_TABLE
from registry.infrastructure.migrations.errors import UnknownRole

ROWS = SQL("SELECT, INSERT, UPDATE, DELETE")
SEQUENCES = SQL("USAGE, SELECT")


def check_role(conn: psycopg.Connection[Any], role: str) -> None:
    if not conn.execute(
        "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
    ).fetchone():
        raise UnknownRole(
            f"no role {role!r} in this server: create it first (CREATE ROLE ... LOGIN)"
        )


def schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Where the registry's tables are: the migrating role's current schema
    (the side tables) and the event store's (public unless configured)."""
    rows = conn.execute(
        "SELECT current_schema() UNION SELECT n.nspname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %s AND c.relkind IN ('r', 'p')",
        (EVENTS_TABLE,),
    ).fetchall()
    return sorted(str(r[0]) for r in rows if r[0] is not None)


def grant(conn: psycopg.Connection[Any], role: str) -> None:
    """Idempotent: run after every migration, so what a later one added is
    granted too (besides the default privileges)."""
    check_role(conn, role)
    who = Identifier(role)
    database = conn.execute("SELECT current_database()").fetchone()
    assert database is not None  # a query without FROM returns one row
    conn.execute(
        SQL("GRANT CONNECT, TEMPORARY, CREATE ON DATABASE {} TO {}").format(
            Identifier(database[0]), who
        )
    )
    for name in schemas(conn):
        schema = Identifier(name)
        for statement in (
            "GRANT USAGE ON SCHEMA {schema} TO {who}",
            "GRANT {rows} ON ALL TABLES IN SCHEMA {schema} TO {who}",
            "GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {rows} ON TABLES TO {who}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            "GRANT {sequences} ON SEQUENCES TO {who}",
        ):
            conn.execute(
                SQL(statement).format(
                    schema=schema, who=who, rows=ROWS, sequences=SEQUENCES
                )
            )
    conn.execute(
        SQL("REVOKE INSERT, UPDATE, DELETE ON registry_migrations FROM {}").format(who)
    )
