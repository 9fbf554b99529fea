"""Python's cyclic garbage collector, set for a process that holds a large,
slowly changing heap: fewer, bigger collections, since intake's caches keep
making survivors and each full collection walks the whole heap
(docs/benchmarks-notes.md, "Why the code is shaped this way")."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (50_000, 50, 100)


class _Pause:
    """Open `paused()` blocks across threads, and whether to resume after."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.resume = False


_PAUSE = _Pause()


def tune() -> None:
    if gc.get_threshold()[0] < THRESHOLDS[0]:
        gc.set_threshold(*THRESHOLDS)


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection during the block: processing a large delivery makes
    hundreds of thousands of objects that live until its save, and each young
    collection would walk them all again. Reference counting still frees what
    is dropped; cycles wait until the last open block on any thread ends."""
    p = _PAUSE
    with p.lock:
        if p.open == 0:
            p.resume = gc.isenabled()
            gc.disable()
        p.open += 1
    try:
        yield
    finally:
        with p.lock:
            p.open -= 1
            if p.open == 0 and p.resume:
                gc.enable()
