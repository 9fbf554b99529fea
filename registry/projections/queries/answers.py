"""Answers that no longer change: a question about the timeline as known at a
T before the last event it has applied has one answer for good, as recorded
times never go back. Two things can still change it, and both are in the
timeline's `horizon`: a number or link rewritten in place (BsnLinked,
LinkedTo, Forgotten: the position of the last one), and a rebuild (the
tables' oid). Such an answer is kept in memory (`remembered`) and named by a
strong entity tag (`etag`) that covers both and the code of the queries.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from psycopg import Cursor

T = TypeVar("T")
BUDGET_BYTES = 64 * 2**20  # per process; a national school's page is ~2 MB


@dataclass(frozen=True)
class Stamp:
    built: str  # the database and the oid of the tables' horizon (a rebuild's differs)
    recorded_at: datetime | None  # of the last event applied
    identities: int

    def final(self, t: datetime) -> bool:
        """Whether the answer as known at `t` can no longer change but by a
        rewrite or a rebuild (which the stamp names)."""
        return self.recorded_at is not None and t < self.recorded_at


def stamp(curs: Cursor[Any]) -> Stamp:
    """The live timeline's stamp, in the cursor's (repeatable read) snapshot."""
    row = curs.execute(
        "SELECT current_database() || ':' || 'horizon'::regclass::oid, "
        "recorded_at, identities FROM horizon"
    ).fetchone()
    assert row is not None, "the timeline's horizon has its one row"
    return Stamp(str(row[0]), row[1], int(row[2]))


class Kept:
    """Least recently used answers, within a budget of bytes."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget, self.used = budget, 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        if size > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.used += size - (old[1] if old else 0)
            self._items[key] = (value, size)
            while self.used > self.budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self.used -= dropped


KEPT = Kept()


def remembered(
    s: Stamp,
    t: datetime,
    question: tuple[Hashable, ...],
    compute: Callable[[], T],
    size: Callable[[T], int],
    kept: Kept = KEPT,
) -> T:
    """The answer to `question` as known at `t`: kept when final, else computed
    every time."""
    if not s.final(t):
        return compute()
    key = (s.built, s.identities, *question)
    found = kept.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    answer = compute()
    kept.put(key, answer, size(answer))
    return answer


def etag(s: Stamp, code: str, question: tuple[Hashable, ...]) -> str:
    """A strong entity tag for a final answer: the tables, their rewrites, the
    queries' code and every input of the question."""
    text = repr((s.built, s.identities, code, question))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weak comparison, RFC 9110)."""
    if not if_none_match:
        return False
    listed = (t.strip().removeprefix("W/") for t in if_none_match.split(","))
    return any(t in (tag, "*") for t in listed)
