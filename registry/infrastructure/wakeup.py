"""Waiting for PostgreSQL notifications, with a poll behind them.

A long-lived reader of the log (the publisher, the projector) waits here between
rounds. A NOTIFY on one of its channels ends the wait at once: the event
store's recorder sends one in every transaction that appends events (the
library's channel, named after the events table), and the outbox in every
transaction that writes messages. With none, the wait ends after its timeout, so
a notification that is lost (a dropped connection, a writer that sends none)
delays a round by at most that long and never stalls it.

LISTEN is issued before the first round, and a notification that arrives while
a round runs is queued on the connection, so the next wait returns at once:
nothing committed after a round read the head waits for the poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.infrastructure.redact import error_text

log = logging.getLogger(__name__)


class Wakeup:
    def __init__(self, url: str, channels: Sequence[str]) -> None:
        self.url = url
        self.channels = list(channels)
        self.notified = 0  # waits ended by a notification
        self.timed_out = 0  # waits that ran to their timeout (the poll)
        self._conn: psycopg.Connection[Any] | None = None

    def listen(self) -> bool:
        """Start listening (again, after a lost connection); whether it is."""
        if self._conn is not None:
            return True
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        except psycopg.Error as e:
            log.warning("cannot listen for notifications: %s", error_text(e))
            return False
        for channel in self.channels:
            conn.execute(SQL("LISTEN {}").format(Identifier(channel)))
        self._conn = conn
        return True

    def wait(self, timeout: float) -> bool:
        """Block until a notification or `timeout` seconds; whether notified.
        A lost connection ends the wait as a notification does (what it may
        have missed is read by the next round) and is made again next time."""
        if not self.listen():
            time.sleep(timeout)
            self.timed_out += 1
            return False
        if self._notified(timeout):
            return True
        self.timed_out += 1
        return False

    def pending(self) -> bool:
        """Whether a notification has come already, not waiting for one (and
        not counted as a wait that timed out)."""
        return self.listen() and self._notified(0)

    def _notified(self, timeout: float) -> bool:
        assert self._conn is not None
        try:
            if not any(
                True for _ in self._conn.notifies(timeout=timeout, stop_after=1)
            ):
                return False
            # Many commits, one round: what else is queued is read by it too.
            for _ in self._conn.notifies(timeout=0):
                pass
        except psycopg.Error as e:
            log.warning("notifications connection lost: %s", error_text(e))
            self.close()
        self.notified += 1
        return True

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()
