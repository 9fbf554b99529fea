"""Progress of a long command (a rebuild): a bar with the time remaining on a
terminal, else a log line now and then, so a log collector shows it too."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
LOG_EVERY_S = 10.0
OnPage = Callable[[int, int], None]


@contextmanager
def rebuild_progress(label: str, terminal: bool | None = None) -> Iterator[OnPage]:
    """A page callback (log position reached, position to reach)."""
    if terminal if terminal is not None else sys.stderr.isatty():
        with _bar(label) as on_page:
            yield on_page
    else:
        yield Lines(label).on_page


@contextmanager
def _bar(label: str) -> Iterator[OnPage]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout is the command's JSON
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda position, limit: bar.update(task, completed=position, total=limit)


class Lines:
    """A line on the first page, every LOG_EVERY_S seconds and at the end:
    where it is, and the time left at the rate so far."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start: tuple[float, int] | None = None
        self.last = 0.0

    def on_page(self, position: int, limit: int) -> None:
        now = time.monotonic()
        if self.start is None:
            self.start = (now, position)
        elif now - self.last < LOG_EVERY_S and position < limit:
            return
        self.last = now
        done = 100 * position // limit if limit else 100
        log.info(
            "%s: log position %d of %d (%d%%)%s",
            self.label,
            position,
            limit,
            done,
            self._left(now, position, limit),
        )

    def _left(self, now: float, position: int, limit: int) -> str:
        assert self.start is not None
        began, first = self.start
        if position >= limit:
            return ", done"
        if position <= first or now <= began:
            return ""
        rate = (position - first) / (now - began)
        return f", about {(limit - position) / rate:.0f} s left"
