"""Which student a number names: the one place a BSN or onderwijsnummer maps to
a student id (docs/privacy.md, "Forgetting").

Student ids are random, so nobody who holds a number can compute the id of its
stream; only this table links the two. A number's row is inserted by the
recorder in the transaction of the student's `Student.Registered` (the number
is its primary key: a second registration of the same number fails like any
concurrent write and is retried). Forgetting deletes the row in the
transaction of the forgetting event and moves it to `forgotten_numbers`, where
it waits, number and id, only until the retention run has redacted the
person's entries in the issued fotos and intake's own tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Composed, Identifier

NUMBERS_TABLE = "student_numbers"
PENDING_TABLE = "forgotten_numbers"


def create_statements(schema: str) -> list[Composed]:
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "number text PRIMARY KEY, student_id uuid NOT NULL)"
        ).format(Identifier(schema), Identifier(table))
        for table in (NUMBERS_TABLE, PENDING_TABLE)
    ] + [
        SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (student_id)").format(
            Identifier(f"{NUMBERS_TABLE}_student"),
            Identifier(schema),
            Identifier(NUMBERS_TABLE),
        )
    ]


class StudentNumbers:
    def __init__(self, datastore: Any, schema: str) -> None:
        self.datastore = datastore
        numbers = SQL("{}.{}").format(Identifier(schema), Identifier(NUMBERS_TABLE))
        pending = SQL("{}.{}").format(Identifier(schema), Identifier(PENDING_TABLE))
        self._select = SQL(
            "SELECT number, student_id FROM {} WHERE number = ANY(%b::text[])"
        ).format(numbers)
        self._insert = SQL(
            "INSERT INTO {} SELECT * FROM unnest(%b::text[], %b::uuid[])"
        ).format(numbers)
        self._index = SQL(
            "INSERT INTO {} SELECT * FROM unnest(%b::text[], %b::uuid[]) "
            "ON CONFLICT (number) DO NOTHING"
        ).format(numbers)
        self._any = SQL("SELECT EXISTS (SELECT 1 FROM {}) AS any").format(numbers)
        self._pending = SQL("SELECT number, student_id FROM {}").format(pending)
        self._redacted = SQL("DELETE FROM {} WHERE number = ANY(%s)").format(pending)
        # A side write of the forgetting: one array of student ids.
        self.forget_statement = SQL(
            "WITH gone AS (DELETE FROM {} n USING unnest(%b::uuid[]) AS f(id) "
            "WHERE n.student_id = f.id RETURNING n.number, n.student_id) "
            "INSERT INTO {} SELECT number, student_id FROM gone "
            "ON CONFLICT (number) DO NOTHING"
        ).format(numbers, pending)

    def ids_of(self, numbers: Iterable[str]) -> dict[str, UUID]:
        """The student id of each number the registry knows (and has not
        forgotten)."""
        wanted = sorted({n for n in numbers if n})
        if not wanted:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select, (wanted,))
            return {row["number"]: row["student_id"] for row in curs.fetchall()}

    def write(self, curs: Cursor[Any], numbers: Mapping[str, UUID]) -> None:
        """In the transaction of the students' Registered events."""
        if numbers:
            curs.execute(self._insert, (list(numbers), list(numbers.values())))

    def any(self) -> bool:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._any)
            row = curs.fetchone()
            return bool(row and row["any"])

    def index(self, numbers: Mapping[str, UUID]) -> None:
        """Rows for students registered before this table existed."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._index, (list(numbers), list(numbers.values())))

    def pending(self) -> dict[str, UUID]:
        """Numbers forgotten whose entries in fotos and intake may still show."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._pending)
            return {row["number"]: row["student_id"] for row in curs.fetchall()}

    def redacted(self, numbers: Iterable[str]) -> None:
        """Their entries are redacted everywhere: the last link goes."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._redacted, (sorted(numbers),))
