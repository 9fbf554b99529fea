"""Intake's tables: stored feedback per batch, records waiting on the population
register, and the write-side lookups intake needs (enrolments per student, issued
onderwijsnummers by name). All are written in the transaction of the batch's events
(side writes), so they can never disagree with the log."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from registry.application.mutations import Period
from registry.infrastructure.jsonb import jsonb_text
from registry.infrastructure.pools import connect
from registry.intake.feedback import FeedbackDocument
from registry.intake.population import NameKey
from registry.intake.wire import BatchKey

# Side writes take one array per column (see RegistryRecorder): one statement for
# any number of rows, instead of a round of the pipeline per row. Binary
# parameters (%b): text-format arrays escape every element with a regular
# expression, which cost more than the insert for a large feedback document.
_BATCH = (
    "SELECT * FROM unnest(%b::text[], %b::int[], %b::text[], %b::int[], %b::text[],"
    " %b::text[], %b::timestamptz[], %b::timestamptz[], %b::jsonb[])"
)
UPSERT_BATCH = (
    "INSERT INTO intake_batches " + _BATCH + " "
    "ON CONFLICT (brin, aanleverpunt, schooljaar, batchnummer) DO UPDATE SET "
    "feedback = excluded.feedback, updated_at = excluded.updated_at "
    "WHERE intake_batches.content_hash = excluded.content_hash"
)
INSERT_NEW_BATCH = "INSERT INTO intake_batches " + _BATCH
INSERT_WAITING = (
    "INSERT INTO intake_waiting SELECT * FROM unnest(%b::text[], %b::int[], %b::text[], "
    "%b::int[], %b::int[], %b::text[], %b::jsonb[], %b::timestamptz[], %b::text[])"
)
DELETE_WAITING = (
    "DELETE FROM intake_waiting w USING unnest(%b::text[], %b::int[], %b::text[], "
    "%b::int[], %b::int[]) AS d(brin, aanleverpunt, schooljaar, batchnummer, melding) "
    "WHERE (w.brin, w.aanleverpunt, w.schooljaar, w.batchnummer, w.meldingnummer) = "
    "(d.brin, d.aanleverpunt, d.schooljaar, d.batchnummer, d.melding)"
)
UPSERT_ENROLMENT = (
    "INSERT INTO intake_enrolments SELECT * FROM unnest(%b::uuid[], %b::uuid[], "
    "%b::text[], %b::date[], %b::date[], %b::bool[]) ON CONFLICT (enrolment_id) "
    "DO UPDATE SET einddatum = excluded.einddatum, deleted = excluded.deleted"
)
INSERT_ISSUED = (
    "INSERT INTO intake_issued SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
    "%b::text[], %b::date[], %b::text[])"
)


@dataclass(frozen=True)
class StoredBatch:
    content_hash: str
    feedback: FeedbackDocument
    soort: str


class IntakeStore:
    def __init__(self, url: str) -> None:
        self.url = url

    def _conn(self) -> AbstractContextManager[psycopg.Connection[dict[str, Any]]]:
        return connect(self.url, dict_row)

    def _read(self) -> AbstractContextManager[psycopg.Connection[dict[str, Any]]]:
        """For a block of one statement: no transaction around it."""
        return connect(self.url, dict_row, autocommit=True)

    def batch(self, key: BatchKey) -> StoredBatch | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT content_hash, feedback, soort FROM intake_batches WHERE brin=%s AND "
                "aanleverpunt=%s AND schooljaar=%s AND batchnummer=%s",
                key,
            ).fetchone()
        return (
            None
            if row is None
            else StoredBatch(row["content_hash"], row["feedback"], row["soort"])
        )

    def last_received(self) -> datetime | None:
        """When the last batch was received (its first delivery), if any."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT max(received_at) AS at FROM intake_batches"
            ).fetchone()
        return None if row is None else row["at"]

    def periods_of(self, student_ids: Sequence[UUID]) -> list[Period]:
        if not student_ids:
            return []
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM intake_enrolments WHERE student_id = ANY(%b::uuid[])",
                (list(student_ids),),
            ).fetchall()
        return [Period(**row) for row in rows]

    def issued_by_name(self, keys: Sequence[NameKey]) -> dict[NameKey, list[str]]:
        if not keys:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM intake_issued WHERE surname = ANY(%s)",
                (sorted({k[0] for k in keys}),),
            ).fetchall()
        wanted: dict[NameKey, list[str]] = {k: [] for k in keys}
        for r in rows:
            key = (r["surname"], r["prefix"], r["first_names"], r["birth"], r["sex"])
            if key in wanted:
                wanted[key].append(r["onderwijsnummer"])
        return wanted

    def next_serials(self, count: int) -> list[int]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT nextval('intake_onderwijsnummer_serial') AS n "
                "FROM generate_series(1, %s)",
                (count,),
            ).fetchall()
        return [r["n"] for r in rows]

    def accountant_batches(self, brin: str, schooljaar: str) -> set[int]:
        """The batchnummers of the accountant mutations the school delivered."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT batchnummer FROM intake_batches WHERE brin = %s AND "
                "schooljaar = %s AND soort = 'ACCOUNTANTSMUTATIE'",
                (brin, schooljaar),
            ).fetchall()
        return {r["batchnummer"] for r in rows}

    def waiting_students(self, whos: Sequence[str]) -> set[str]:
        """Which of these students have a record waiting (see batch_state.who)."""
        if not whos:
            return set()
        with self._read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT who FROM intake_waiting WHERE who = ANY(%b::text[])",
                (list(whos),),
            ).fetchall()
        return {r["who"] for r in rows}

    def waiting(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            return conn.execute(
                "SELECT * FROM intake_waiting ORDER BY since, brin, aanleverpunt, "
                "schooljaar, "
                "batchnummer, meldingnummer"
            ).fetchall()


def batch_row(
    key: BatchKey,
    content_hash: str,
    soort: str,
    received: datetime,
    updated: datetime,
    feedback: FeedbackDocument,
) -> tuple[Any, ...]:
    # A large delivery's feedback is megabytes.
    return (*key, content_hash, soort, received, updated, jsonb_text(feedback))
