"""The long-running projector: keeps every projection caught up, with a watchdog.

Each pass over the projections starts as soon as the log notifies new events
(`wakeup`), or `poll_seconds` after the last pass without a notification.

The watchdog runs beside the catch-up. When a projection is behind the head and
its position has not moved for `stall_seconds` (a lost notification, a hung
connection, a lock held too long), it cancels the running statement; the
catch-up's transaction rolls back (nothing half-applied) and starts again on a
new connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from registry.infrastructure.redact import error_text
from registry.infrastructure.wakeup import Wakeup
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import Projector

log = logging.getLogger(__name__)


class Daemon:
    def __init__(
        self,
        projector: Projector,
        projections: Sequence[Projection],
        *,
        poll_seconds: float = 0.5,
        stall_seconds: float = 30.0,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.projector = projector
        self.wakeup = wakeup
        self.projections = list(projections)
        self.poll_seconds = poll_seconds
        self.stall_seconds = stall_seconds
        self.restarts = 0
        self._active: psycopg.Connection[Any] | None = None
        self._progress: dict[str, tuple[int, float]] = {}

    def run(self, should_stop: Callable[[], bool]) -> None:
        watchdog = threading.Thread(
            target=self._watch, args=(should_stop,), daemon=True
        )
        watchdog.start()
        if self.wakeup:
            self.wakeup.listen()  # before the first pass: no commit after it is missed
        while not should_stop():
            for p in self.projections:
                self._catch_up(p)
            if self.wakeup:
                self.wakeup.wait(self.poll_seconds)
            else:
                time.sleep(self.poll_seconds)
        watchdog.join(timeout=5)

    def _catch_up(self, projection: Projection) -> None:
        try:
            schema = self.projector.target(projection)
            self.projector.catch_up(projection, schema, on_connect=self._attach)
            self.projector.promote(projection.name, schema)
        except psycopg.Error as e:
            log.warning(
                "projection %s: %s; starting again", projection.name, error_text(e)
            )
        finally:
            self._active = None

    def _attach(self, conn: psycopg.Connection[Any]) -> None:
        self._active = conn

    def _watch(self, should_stop: Callable[[], bool]) -> None:
        while not should_stop():
            time.sleep(max(self.stall_seconds / 4, 0.05))
            try:
                self._check()
            except psycopg.Error as e:
                log.warning(
                    "watchdog could not read the projection status: %s", error_text(e)
                )

    def _check(self) -> None:
        now = time.monotonic()
        for s in self.projector.status():
            if s.upto is not None or s.failed_at is not None:
                continue  # scratch schemas, and stopped ones, are not its to restart
            last = self._progress.get(s.schema)
            if last is None or s.position != last[0] or s.lag == 0:
                self._progress[s.schema] = (s.position, now)
            elif now - last[1] > self.stall_seconds:
                log.warning(
                    "projection %s stalled at %d, head %d; restarting",
                    s.schema,
                    s.position,
                    s.head,
                )
                self._progress[s.schema] = (s.position, now)
                self.restarts += 1
                active = self._active
                if active is not None:
                    active.cancel_safe()
