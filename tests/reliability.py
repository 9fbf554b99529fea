"""Figures of the reliability scenarios: each test reports one line, printed
at the end of the run (`make reliability` shows them all)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

LINES: list[str] = []


def report(scenario: str, **figures: Any) -> None:
    shown = "  ".join(f"{k}={v}" for k, v in figures.items())
    LINES.append(f"{scenario:<34} {shown}")


def assert_relayed_once_in_order(
    records: list[Any], ids: list[str], stored: dict[str, tuple[Any, ...]], why: str
) -> None:
    """What a relay killed at any point still owes: every outbox message
    (`stored[id]` = seq, topic, key, payload, ...) is on the broker and nothing
    else is; a message sent again carries its original id, key and value; and
    one partition's first copies are in outbox order."""
    assert set(ids) == set(stored), why
    for record, message_id in zip(records, ids, strict=True):
        _, topic, key, payload = stored[message_id][:4]
        assert (record.topic, record.key.decode()) == (topic, key), why
        assert json.loads(record.value) == payload, why
    firsts: dict[tuple[str, int], list[int]] = defaultdict(list)
    seen: set[str] = set()
    for record, message_id in sorted(
        zip(records, ids, strict=True),
        key=lambda ri: (ri[0].topic, ri[0].partition, ri[0].offset),
    ):
        if message_id not in seen:
            seen.add(message_id)
            firsts[(record.topic, record.partition)].append(stored[message_id][0])
    assert all(s == sorted(s) for s in firsts.values()), why
