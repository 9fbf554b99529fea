"""The audit of reads: who was shown personal data, when, under which role, by
which route, for which school, how many rows, and which student when it was
one. A national register must not serve personal data it has not recorded
serving, so a failed write is raised (ReadNotAudited) and the read fails.

The rows hold no personal data beyond the student's internal id: never a
number, a name or a birth date.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from registry.infrastructure.pools import connect

_INSERT = (
    "INSERT INTO access_reads (at, login, role, route, brin, subject, rows) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_SELECT = (
    "SELECT at, login, role, route, brin, subject, rows FROM access_reads "
    "WHERE (%(since)s::timestamptz IS NULL OR at >= %(since)s) "
    "AND (%(login)s::text IS NULL OR login = %(login)s) "
    "AND (%(brin)s::text IS NULL OR brin = %(brin)s) "
    "ORDER BY at, id LIMIT %(limit)s"
)


class ReadNotAudited(Exception):
    """The read could not be recorded in the audit, so it is not served."""


@dataclass(frozen=True)
class Read:
    login: str
    role: str
    route: str
    brin: str | None
    rows: int
    subject: UUID | None = None  # the one student a response was about


class ReadAudit:
    def __init__(self, url: str) -> None:
        self.url = url

    def _conn(self) -> AbstractContextManager[psycopg.Connection[dict[str, Any]]]:
        return connect(self.url, dict_row)

    def record(self, read: Read, at: datetime) -> None:
        """Commit the read's row before the data is handed out."""
        row = (at, read.login, read.role, read.route, read.brin, read.subject)
        try:
            with self._conn() as conn:
                conn.execute(_INSERT, (*row, read.rows))
        except psycopg.Error as e:
            # The class only: the driver's message may quote the row.
            raise ReadNotAudited(
                f"the read could not be audited ({type(e).__name__}); "
                "nothing was served"
            ) from None

    def reads(
        self,
        *,
        since: datetime | None = None,
        login: str | None = None,
        brin: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """The recorded reads, oldest first, filtered by any of the three."""
        params = {"since": since, "login": login, "brin": brin, "limit": limit}
        with self._conn() as conn:
            return conn.execute(_SELECT, params).fetchall()
