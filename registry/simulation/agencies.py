"""The agencies beside the demo: one reference consumer thread per recipient,
storing what the relay publishes (a process runs one group of them)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from consumers.agency import AgencyConsumer
from consumers.contract import Schemas

log = logging.getLogger(__name__)
# Agencies that keep up with a trickle would otherwise fetch a few messages at
# a time, at several times the CPU per message for them and for the broker; a
# message waits at most the fetch wait longer. Most of the national demo's
# municipalities receive a few messages a minute: their consumers' fetches and
# heartbeats were most of what their process spent. So a fetch waits up to 2 s
# (kafka-python's default is 0.5 s) and a heartbeat goes every 3 s
# (docs/benchmarks-notes.md, "2026-12-06, 10:25").
DEMO_FETCH_WAIT_MS = 2000
DEMO_FETCH_MIN_BYTES = 64 * 1024
# Session and heartbeat: a group of one joins in about 6 s instead of 2 on the
# embedded broker (half the session), while the play loads the schools and the
# register.
DEMO_GROUP_TIMEOUTS = (10_000, 3_000)
# Quiet for this much longer than a fetch can be held at the broker: a
# consumer whose fetch went out just before the last messages still stores them.
SETTLE_MARGIN_SECONDS = 1.5


class Consumers:
    """One reference consumer thread per recipient."""

    def __init__(
        self,
        url: str,
        bootstrap: str,
        recipients: list[str],
        group_suffix: str = "",
        offset_reset: str = "earliest",
        group_timeouts: tuple[int, int] = DEMO_GROUP_TIMEOUTS,
        fetch_wait_ms: int = DEMO_FETCH_WAIT_MS,
    ) -> None:
        """`group_timeouts` and `fetch_wait_ms`: a test that publishes right
        after the groups join, from the end ("latest"), asks for shorter ones."""
        schemas = Schemas()  # read and compiled once for them all
        self.bootstrap = bootstrap
        self.settle_seconds = fetch_wait_ms / 1000 + SETTLE_MARGIN_SECONDS
        self.consumers = [
            AgencyConsumer(
                url,
                bootstrap,
                r,
                schemas=schemas,
                group_timeouts=group_timeouts,
                # Fifteen consumers that only need to keep up: a short wait
                # would have each ask the broker twenty times a second.
                fetch_wait_ms=fetch_wait_ms,
                fetch_min_bytes=DEMO_FETCH_MIN_BYTES,
                group=f"agency-{r}{group_suffix}",
                offset_reset=offset_reset,
            )
            for r in recipients
        ]
        self.threads = [
            threading.Thread(target=c.run, name=f"consumer-{c.recipient}", daemon=True)
            for c in self.consumers
        ]

    def start(self) -> Consumers:
        for t in self.threads:
            t.start()
        return self

    def wait_assigned(self, limit_seconds: float = 60.0) -> bool:
        """True once every consumer has its partitions (a group joins in ~6 s)."""
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            if all(c.stats.assigned for c in self.consumers):
                return True
            time.sleep(0.1)
        return False

    def stop(
        self, settle_seconds: float | None = None, limit_seconds: float = 120.0
    ) -> dict[str, Any]:
        """Wait until every consumer has joined its group and then either has
        stored its topics up to their ends, or nothing new has arrived for
        `settle_seconds` (by default a little longer than a fetch waits); then
        stop. What each consumer stored.

        The ends are read again each time round: called once publishing has
        stopped (the demo's relay), the consumers stop as soon as they have
        stored the last message; otherwise the quiet decides, as before."""
        settle_seconds = settle_seconds or self.settle_seconds
        deadline = time.monotonic() + limit_seconds
        self.wait_assigned(limit_seconds)  # a short year can end before a join
        ends = _Ends(
            self.bootstrap, sorted({t for c in self.consumers for t in c.topics})
        )
        try:
            self._settle(ends, settle_seconds, deadline)
        finally:
            ends.close()
        for c in self.consumers:
            c.stop()
        for t in self.threads:
            t.join(timeout=30)
        return {c.recipient: c.stats.__dict__ for c in self.consumers}

    def _settle(self, ends: _Ends, settle_seconds: float, deadline: float) -> None:
        """Until stored up to the ends, quiet for `settle_seconds`, or the deadline."""
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now = ends.now()
            if now is not None and stored_up_to(self.consumers, now):
                return
            seen = sum(c.stats.handled for c in self.consumers)
            if seen != last:
                last, quiet_since = seen, time.monotonic()
            elif time.monotonic() - quiet_since >= settle_seconds:
                return
            time.sleep(0.2)


def stored_up_to(
    consumers: Iterable[AgencyConsumer], ends: dict[TopicPartition, int]
) -> bool:
    """Every consumer has stored each partition of its topics up to its end
    (an empty partition, or another's topic, asks nothing of it)."""
    for c in consumers:
        stored = dict(c.positions)  # the consumer's thread adds to it
        for tp, end in ends.items():
            if end > 0 and tp.topic in c.topics and stored.get(tp, 0) < end:
                return False
    return True


class _Ends:
    """The end offsets of the topics' partitions, by a client in no group;
    None while the broker cannot say (the quiet decides then)."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.topics = topics
        try:
            self.kafka: KafkaConsumer | None = KafkaConsumer(
                bootstrap_servers=bootstrap, enable_auto_commit=False
            )
        except KafkaError as e:
            log.warning("end offsets unknown (%s): the consumers settle by quiet", e)
            self.kafka = None

    def now(self) -> dict[TopicPartition, int] | None:
        if self.kafka is None:
            return None
        try:
            partitions = [
                TopicPartition(t, p)
                for t in self.topics
                for p in sorted(self.kafka.partitions_for_topic(t) or ())
            ]
            return dict(self.kafka.end_offsets(partitions)) if partitions else {}
        except KafkaError:
            return None

    def close(self) -> None:
        if self.kafka is not None:
            self.kafka.close(autocommit=False)
