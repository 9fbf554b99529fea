"""Python's cyclic garbage collector, set for a process that holds a large,
slowly changing heap: fewer, bigger collections, since intake's caches keep
making survivors and each full collection walks the whole heap
(docs/benchmarks-notes.md, "Why the code is shaped this way")."""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 50, 100)


def tune() -> None:
    if gc.get_threshold()[0] < THRESHOLDS[0]:
        gc.set_threshold(*THRESHOLDS)
