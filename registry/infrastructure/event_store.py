"""The event store's recorder: the library's locked insert path, plus one guard.

Recorded time must never decrease along the log. The guard runs after the insert
lock is taken, in the same transaction as the events, so no interleaving of
writers can record an earlier time after a later one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    InterfaceError,
    JSONTranscoder,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import Environment, get_topic, retry
from psycopg import Cursor
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

from registry.config import Settings
from registry.infrastructure import person_keys, student_numbers
from registry.infrastructure.person_keys import PersonKeys, Saving
from registry.infrastructure.pools import check_unless_recent
from registry.infrastructure.sealing import SealedAsBase64, Sealer
from registry.infrastructure.student_numbers import StudentNumbers
from registry.infrastructure.transcoder import FastJSONTranscoder

APPLICATION_NAME = "Registry"
EVENTS_TABLE = "registry_events"  # the library names it after the application
CLOCK_WENT_BACK = "RG001"  # the SQLSTATE of the clock guard below
# A statement and its rows, written in the same transaction as events. The
# statement takes one array parameter per column (unnest), so any number of rows
# costs one statement.
SideWrite = tuple[str | Composed, Sequence[Sequence[Any]]]


class DateAsISO(Transcoding):
    """Dates in events (ingangsdatum, einddatum, …) as ISO strings."""

    type = date
    name = "date_iso"  # stored in the log: never rename

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """The library's transcodings and the registry's own: how the log is encoded."""
    for transcoding in (
        UUIDAsHex(),
        DecimalAsStr(),
        DatetimeAsISO(),
        DateAsISO(),
        SealedAsBase64(),
    ):
        transcoder.register(transcoding)


def make_transcoder() -> JSONTranscoder:
    """The log's codec: the library's JSON format, written and read faster."""
    transcoder = FastJSONTranscoder()
    register_transcodings(transcoder)
    return transcoder


class RegistryRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        # Per-person keys live beside the events, made by the same statements.
        self.keys = PersonKeys(self.datastore, self.datastore.schema)
        self.sql_create_statements.extend(
            person_keys.create_statements(self.datastore.schema)
        )
        self.numbers = StudentNumbers(self.datastore, self.datastore.schema)
        self.sql_create_statements.extend(
            student_numbers.create_statements(self.datastore.schema)
        )
        self.sealer = Sealer(self.keys, make_transcoder())
        schema = Identifier(self.datastore.schema)
        clock = Identifier(f"{events_table_name}_clock")
        func = Identifier(f"{events_table_name}_advance_clock")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{clock} ("
                "id int PRIMARY KEY CHECK (id = 1), recorded_at timestamptz NOT NULL)"
            ).format(schema=schema, clock=clock)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{func}(at timestamptz) "
                "RETURNS void LANGUAGE plpgsql AS $$ "
                "DECLARE last timestamptz; "
                "BEGIN "
                "SELECT recorded_at INTO last FROM {schema}.{clock} WHERE id = 1; "
                "IF last IS NOT NULL AND at < last THEN "
                "RAISE EXCEPTION 'recorded time % is before the last recorded time %', "
                "at, last USING ERRCODE = {code}; "
                "END IF; "
                "INSERT INTO {schema}.{clock} VALUES (1, at) "
                "ON CONFLICT (id) DO UPDATE SET recorded_at = excluded.recorded_at; "
                "END $$"
            ).format(
                schema=schema, clock=clock, func=func, code=Literal(CLOCK_WENT_BACK)
            )
        )
        self._advance_clock = SQL("SELECT {schema}.{func}(%s)").format(
            schema=schema, func=func
        )
        self._select_many = SQL(
            "SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%b::uuid[]) "
            "ORDER BY originator_id, originator_version"
        ).format(schema=schema, table=Identifier(events_table_name))
        table = Identifier(events_table_name)
        self._select_head = SQL(
            "SELECT coalesce(max(notification_id), 0) AS head FROM {schema}.{table}"
        ).format(schema=schema, table=table)
        self._copy_statement = SQL(
            "COPY {schema}.{table} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, table=table)
        self._select_new_ids = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE notification_id > %s ORDER BY notification_id"
        ).format(schema=schema, table=table)
        self._select_originators = SQL(
            "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE topic = %s "
            "ORDER BY originator_id"
        ).format(schema=schema, table=table)
        self._select_clock = SQL("SELECT recorded_at FROM {schema}.{clock}").format(
            schema=schema, clock=clock
        )
        # Writers of the log take their turn (so commit order is notification
        # order) on an advisory lock, not the library's EXCLUSIVE table lock:
        # that also conflicts with (auto)vacuum and ANALYZE, so every save
        # waited deadlock_timeout for an autovacuum to be cancelled, and the log
        # was never vacuumed or analysed while writers ran (its plans had no
        # statistics). Only this recorder inserts into the log.
        self.lock_table_statements = [
            self.lock_table_statements[0],  # the library's SET LOCAL lock_timeout
            SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(
                Literal(f"{self.datastore.schema}.{events_table_name} insert")
            ),
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        recorded_at = kwargs.get("recorded_at")
        if not isinstance(recorded_at, datetime):
            raise ProgrammingError("save() needs recorded_at=<aware datetime>")
        # The keys this thread's save sealed with, taken once: a retry of the
        # transaction below inserts the same keys again.
        saving = self.keys.take()
        ids: Sequence[int] | None = self._insert_events(
            stored_events, recorded_at, saving, kwargs.get("side_writes", ())
        )
        self.keys.committed(saving)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        recorded_at: datetime,
        saving: Saving,
        side_writes: Sequence[SideWrite],
    ) -> Sequence[int] | None:
        """The library's locked insert (one writer at a time, so commit order
        is notification order), as one plain transaction: the library's variant,
        which sends the events themselves in a pipeline, stalled on saves of many
        thousands of events with side writes. The events' new person keys go in
        the same transaction.

        The statements before the copy are sent at once (pipeline mode), the
        head last: most deliveries hold a few records, and one round trip per
        statement cost them more than their records (docs/benchmarks-notes.md).
        The first error is raised when the pipeline ends, and nothing after it
        in the transaction has run. The events go by copy, outside it."""
        with self.datastore.transaction(commit=True) as curs:
            conn = curs.connection
            with conn.pipeline():
                self._lock_table(curs)
                curs.execute(self._advance_clock, (recorded_at,))
                self._side_writes(curs, side_writes)
                if not stored_events:
                    return []
                confirm = self.keys.write(curs, saving, recorded_at)
                self.numbers.write(curs, saving.numbers)
                self._notify_channel(curs)
                at_head = conn.cursor()
                at_head.execute(self._select_head)
            confirm()
            with at_head:
                row = at_head.fetchone()
            assert row is not None  # an aggregate without GROUP BY returns one row
            return self._copy_events(curs, stored_events, row["head"])

    def _copy_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], head: int
    ) -> list[int]:
        """Binary COPY: an order of magnitude cheaper than the library's array of
        composites. The table lock makes the new notification ids exactly those
        above the head read before the copy; a duplicate version still raises the
        unique violation that the application reports as a concurrent change."""
        with curs.copy(self._copy_statement) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for e in stored_events:
                copy.write_row(
                    (e.originator_id, e.originator_version, e.topic, e.state)
                )
        curs.execute(self._select_new_ids, (head,))
        ids = [row["notification_id"] for row in curs.fetchall()]
        if len(ids) != len(stored_events):
            raise ProgrammingError(
                f"expected {len(stored_events)} notification ids, got {len(ids)}"
            )
        return ids

    @staticmethod
    def _side_writes(curs: Cursor[DictRow], writes: Sequence[SideWrite]) -> None:
        for statement, rows in writes:
            if rows:
                curs.execute(
                    statement, [list(column) for column in zip(*rows, strict=True)]
                )

    def write_without_events(
        self, recorded_at: datetime, side_writes: Sequence[SideWrite]
    ) -> None:
        """Side writes of a command that records no event (e.g. feedback of a batch
        whose records were all rejected), under the same lock and clock guard."""
        self.insert_events([], recorded_at=recorded_at, side_writes=side_writes)

    def select_events_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """The events of many aggregates in one query, in version order."""
        if not ids:
            return []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_many, (list(ids),))
            return [
                StoredEvent(
                    row["originator_id"],
                    row["originator_version"],
                    row["topic"],
                    bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def originators(self, topic: str) -> list[UUID]:
        """The streams with an event of `topic` (a scan: for one-off upkeep)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_originators, (topic,))
            return [row["originator_id"] for row in curs.fetchall()]

    def last_recorded_at(self) -> datetime | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_clock)
            row = curs.fetchone()
            return None if row is None else row["recorded_at"]


# The parameters the library builds its pool from; every other one of the
# conninfo (sslmode, sslrootcert, application_name, …) is passed on as well.
_LIBRARY_PARAMETERS = ("dbname", "host", "port", "user", "password")
EXTRA_CONNINFO = "REGISTRY_CONNINFO_EXTRA"


class RegistryFactory(PostgresFactory):
    """The library's factory, keeping the whole conninfo: the library's pool
    takes five parameters, and a TLS setting dropped would connect in the
    clear (or not at all) where the operator asked for verify-full."""

    def __init__(self, env: Environment | dict[str, str] | None) -> None:
        super().__init__(env)
        extra = json.loads(self.env.get(EXTRA_CONNINFO) or "{}")
        pool = self.datastore.pool
        kwargs = pool.kwargs
        assert isinstance(kwargs, dict)  # the library passes a dict
        kwargs.update(extra)
        # The library's pre-ping is psycopg_pool's check at every loan; the
        # pool takes its check only when made, so it is set on the pool made.
        if pool._check is not None:
            pool._check = check_unless_recent


def event_store_env(url: str, settings: Settings) -> dict[str, str]:
    """The eventsourcing library's settings for the registry's event store."""
    info = conninfo_to_dict(url)
    extra = {k: str(v) for k, v in info.items() if k not in _LIBRARY_PARAMETERS}
    return {
        "PERSISTENCE_MODULE": get_topic(RegistryFactory),
        EXTRA_CONNINFO: json.dumps(extra),
        "APPLICATION_RECORDER_TOPIC": get_topic(RegistryRecorder),
        "POSTGRES_DBNAME": str(info.get("dbname", "postgres")),
        "POSTGRES_HOST": str(info.get("host", "localhost")),
        "POSTGRES_PORT": str(info.get("port", "5432")),
        "POSTGRES_USER": str(info.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(info.get("password", "")),
        # Keep the library's locked insert path: with DB functions on, tailing
        # readers can miss events (9.5.6).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_LOCK_TIMEOUT": str(settings.lock_timeout_seconds),
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pool_max_overflow),
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30000",
        # A pooled connection is checked before use, so the first requests
        # after the database comes back do not fail on dead connections; and
        # a server that is down is reported in seconds, not half a minute.
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_TIMEOUT": "5",
        # Tables are made by migrations (`registry db migrate`), never at start.
        "CREATE_TABLE": "n",
    }


def open_recorder(url: str, settings: Settings) -> tuple[ApplicationRecorder, Any]:
    """The registry's log for a process that reads it without the application
    (a projector, the relay's host): its recorder and the factory to close."""
    env = Environment(APPLICATION_NAME, event_store_env(url, settings))
    factory = RegistryFactory(env)
    return factory.application_recorder(), factory
