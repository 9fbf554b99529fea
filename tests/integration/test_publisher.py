"""The long-lived publisher is woken by the log's notifications, and its poll
stands behind them: with no notification at all, what is appended is still
published. No timing is asserted: each test waits (within a generous bound)
for what only one mechanism can bring about."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg.sql import SQL, Identifier

from registry.bootstrap import Runtime
from registry.infrastructure.wakeup import Wakeup
from registry.projections.extracts import outbox
from registry.publishing.round import Publication
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student

WAIT_S = 60.0  # a bound on a wait, not a timing assertion
HOUR = 3600.0  # a poll that never comes round within a test


class Watched(Wakeup):
    """A wakeup that tells when the loop is waiting in it."""

    def __init__(self, url: str, channels: list[str]) -> None:
        super().__init__(url, channels)
        self.waiting = threading.Event()

    def wait(self, timeout: float) -> bool:
        self.waiting.set()
        try:
            return super().wait(timeout)
        finally:
            self.waiting.clear()


def wait_for(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def relayed(url: str, publication: Publication) -> Callable[[], bool]:
    """Whether the outbox holds messages and the relay has sent them all."""

    def check() -> bool:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
        last = int(row[0]) if row else 0
        return last > 0 and publication.relay.position() >= last

    return check


@contextmanager
def running(
    rt: Runtime, bootstrap: str, poll: float, channels: list[str] | None = None
) -> Iterator[tuple[Publication, Watched]]:
    """The publication's loop in a thread, listening on its own channels (or
    on `channels`), idle in its wait once yielded."""
    publication = rt.publication(bootstrap)
    wakeup = Watched(rt.database_url, channels or publication.channels())
    stop = threading.Event()
    worker = threading.Thread(target=publication.run, args=(stop.is_set, wakeup, poll))
    worker.start()
    try:
        wait_for(wakeup.waiting.is_set, "the first rounds to finish")
        # Rounds the first ones' own writes notified are over too.
        wait_for(lambda: publication.relay.lag() == 0, "an idle publisher")
        wait_for(wakeup.waiting.is_set, "the publisher to wait")
        yield publication, wakeup
    finally:
        stop.set()
        with psycopg.connect(rt.database_url, autocommit=True) as conn:
            for channel in wakeup.channels:  # out of its wait, to see the stop
                conn.execute(SQL("NOTIFY {}").format(Identifier(channel)))
        worker.join(timeout=WAIT_S)
        publication.close()
        wakeup.close()
    assert not worker.is_alive()


def test_a_wait_ends_on_a_notification_committed_before_it(database_url: str) -> None:
    wakeup = Wakeup(database_url, ["test_channel"])
    try:
        assert wakeup.listen()
        with psycopg.connect(database_url) as conn:  # committed before the wait
            conn.execute("NOTIFY test_channel")
            conn.execute("NOTIFY test_channel, 'another'")
        assert wakeup.wait(WAIT_S)
        # Both were taken by the one wait: the next has nothing to end it.
        assert not wakeup.wait(0.1)
        assert (wakeup.notified, wakeup.timed_out) == (1, 1)
    finally:
        wakeup.close()


def test_appended_events_wake_the_publisher(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    prepare(runtime)
    with running(runtime, kafka_bootstrap, HOUR) as (publication, wakeup):
        assert wakeup.channels == [runtime.projector.log.channel, outbox.CHANNEL]
        rounds = publication.rounds
        runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
        # Its poll is an hour away: only the notification starts a round.
        wait_for(relayed(runtime.database_url, publication), "the enrolment's messages")
        assert publication.rounds > rounds
        assert wakeup.notified >= 1


def test_with_no_notification_the_poll_still_publishes(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    prepare(runtime)
    # Listening where nobody notifies: every notification is lost.
    lost = ["nobody_notifies_this"]
    with running(runtime, kafka_bootstrap, 0.2, lost) as (publication, wakeup):
        runtime.intake.submit(
            batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
        )
        wait_for(relayed(runtime.database_url, publication), "the polled round")
        assert wakeup.notified == 0
        assert wakeup.timed_out >= 1
