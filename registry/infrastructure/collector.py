"""Python's cyclic garbage collector, set for a process that holds a large,
slowly changing heap (id and number caches, pools, the schedule of a year).

With the defaults (700, 10, 10) a full collection runs whenever the survivors
since the last one reach a quarter of the long-lived heap; intake keeps making
survivors (the caches evict and refill), so full collections came every few
seconds and each walked the whole heap: py-spy (--native) counted 27% of the
national demo's play in the collector. Cycles are still collected, only in
bigger and fewer passes; reference counting frees everything else at once.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 50, 100)


def tune() -> None:
    if gc.get_threshold()[0] < THRESHOLDS[0]:
        gc.set_threshold(*THRESHOLDS)
