"""Wall-clock seconds per named stage, for the demo's summary and the closing
figures (where a whole-year run spends its time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.stages[stage] = round(self.stages.get(stage, 0.0) + elapsed, 1)
