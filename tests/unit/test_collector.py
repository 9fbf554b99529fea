"""Intake pauses the cyclic collector while it processes a delivery; the pause
ends with the last open block on any thread, and leaves it as it found it."""

from __future__ import annotations

import gc
import threading

from registry.infrastructure import collector


def test_the_collector_runs_again_after_the_last_pause() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still open
    assert gc.isenabled()


def test_a_pause_on_another_thread_outlives_this_one() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collector.paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    with collector.paused():
        pass
    assert not gc.isenabled()  # the other thread's block is still open
    leave.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
