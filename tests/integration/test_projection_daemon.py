"""The projector daemon keeps up with new deliveries and recovers from a stall."""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg.sql import SQL, Identifier

from registry.bootstrap import Runtime
from registry.projections.engine.daemon import Daemon
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student


def _wait_for(condition, seconds: float = 20) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_daemon_follows_the_log_and_recovers_from_a_stall(runtime: Runtime) -> None:
    prepare(runtime)
    projector = Projector(runtime.database_url)
    schema = projector.ensure(Timeline())
    daemon = Daemon(projector, [Timeline()], poll_seconds=0.05, stall_seconds=0.5)
    stop = threading.Event()
    worker = threading.Thread(target=daemon.run, args=(stop.is_set,))
    worker.start()
    try:
        runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
        assert _wait_for(lambda: projector.status()[0].lag == 0)

        # Hold the tracking row: the catch-up blocks behind it and makes no
        # progress; the watchdog must notice and cancel, and the daemon must
        # catch up once the blocker is gone.
        with psycopg.connect(runtime.database_url) as blocker:
            blocker.execute(
                "SELECT 1 FROM projection_tracking WHERE schema_name = %s FOR UPDATE",
                (schema,),
            )
            runtime.intake.submit(
                batch(rec(1, student(PIET)), number=2), utc(2026, 8, 21)
            )
            assert _wait_for(lambda: daemon.restarts >= 1)
            assert projector.status()[0].lag > 0
        assert _wait_for(lambda: projector.status()[0].lag == 0)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_daemon_woken_by_appended_events(runtime: Runtime) -> None:
    """With a poll an hour away, only the log's notification can start the
    pass that applies a new delivery."""
    from tests.integration.test_publisher import HOUR, Watched

    prepare(runtime)
    projector = Projector(runtime.database_url)
    projector.ensure(Timeline())
    wakeup = Watched(runtime.database_url, [projector.log.channel])
    daemon = Daemon(projector, [Timeline()], poll_seconds=HOUR, wakeup=wakeup)
    stop = threading.Event()
    worker = threading.Thread(target=daemon.run, args=(stop.is_set,))
    worker.start()
    try:
        assert _wait_for(
            lambda: wakeup.waiting.is_set() and projector.status()[0].lag == 0
        )
        runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
        assert _wait_for(
            lambda: projector.status()[0].lag == 0 and wakeup.notified >= 1
        )
    finally:
        stop.set()
        with psycopg.connect(runtime.database_url, autocommit=True) as conn:
            notify = SQL("NOTIFY {}").format(Identifier(projector.log.channel))
            conn.execute(notify)  # out of its wait, to see the stop
        worker.join(timeout=10)
        wakeup.close()
    assert not worker.is_alive()
