"""Publication beside the registry, each part in a process of its own (the demo):
the timeline kept up, the extracts kept up in one pass over the log, the relay
producing the outbox, and the agencies' consumers (a process per group of them)
storing what arrives.

Processes, not threads: every part is CPU-bound Python, and threads of one
process share one core (the GIL); side by side they use both cores. The parts stop in order: the projections take a last pass, then
the relay a last round, then the consumers store what is still arriving. Each
sets the garbage collector as a runtime does (runtime/collector.py): the
extracts hold a large, slowly changing heap of their own.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
from collections.abc import Callable
from multiprocessing.synchronize import Event
from typing import Any

import psycopg

from registry.bootstrap import projections
from registry.config import Settings
from registry.infrastructure import collector
from registry.infrastructure.pools import name_connections, pooled
from registry.infrastructure.redact import error_trace, quiet_payload_loggers
from registry.projections.engine.event_log import EventLog
from registry.projections.engine.multi import fresh_together
from registry.projections.engine.runner import Projector
from registry.publishing.contract import TopicSchemas
from registry.publishing.relay import Relay, producer
from registry.publishing.round import Publication
from registry.simulation.agencies import Consumers

log = logging.getLogger(__name__)
_MP = mp.get_context("spawn")  # no forked copies of open connections
# A part: name, target, the arguments before and after its stop event.
Part = tuple[str, Callable[..., None], tuple[Any, ...], tuple[Any, ...]]


def _until(last: Event, poll: float, work: Any) -> None:
    """Do `work` every `poll` seconds; once `last` is set, once more and return."""
    while True:
        final = last.is_set()
        try:
            work()
        except Exception as e:  # a failed round is tried again; nothing half-applied
            if final:
                raise
            log.error("round failed; trying again:\n%s", error_trace(e))
        if final:
            return
        last.wait(poll)


def _named(name: str, target: Callable[..., None], *args: Any) -> None:
    """A part, its connections named after it (`registry demo relay`)."""
    name_connections(f"registry demo {name}")
    target(*args)


def keep_projections(
    settings: Settings, extracts: bool, last: Event, poll: float
) -> None:
    """The timeline alone, or the extracts together. Apart, because a foto
    catches the timeline up first and waits for the page in hand: a page of
    the timeline alone is short, one of all five projections is not."""
    collector.tune()
    if extracts:
        _yield_to_the_play()
    url = settings.database_url
    assert url is not None
    projector = Projector(
        url.get_secret_value(), EventLog.open(url.get_secret_value(), settings)
    )
    chosen = [p for p in projections(settings) if (p.name != "timeline") == extracts]
    configure = _backend_gives_way if extracts else None
    with pooled(url.get_secret_value(), configure=configure):
        _until(last, poll, lambda: fresh_together(projector, chosen))


NICE = 5


def _yield_to_the_play() -> None:
    """The play is the critical path; the extracts, the relay and the consumers
    may fall behind during it and catch up at the end, so they give way to it
    (the timeline does not: a foto waits for it)."""
    os.nice(NICE)


def _backend_gives_way(conn: psycopg.Connection[Any]) -> None:
    """The server process of a connection gives way too: the extracts' writes
    are most of the work their process asks of the server. Only on a server on
    this machine (a Unix socket, so the pid is one here), and only where allowed."""
    if conn.info.host.startswith("/"):
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        if row is not None:
            give_way(int(row[0]))
    conn.commit()


def give_way(pid: int) -> None:
    """Another process of the publication (the broker, a server process) gives
    way to the play, where the OS allows it."""
    with contextlib.suppress(OSError):  # not ours to renice: it keeps its priority
        os.setpriority(os.PRIO_PROCESS, pid, NICE)


def keep_relaying(url: str, bootstrap: str, last: Event, poll: float) -> None:
    collector.tune()
    quiet_payload_loggers()
    _yield_to_the_play()
    # The extracts process keeps the outbox filled: these rounds only relay.
    relay = Relay(url, producer(bootstrap), TopicSchemas())
    publication = Publication(Projector(url), [], relay, lambda: producer(bootstrap))
    try:
        with pooled(url, max_size=2):  # not a connection per window read
            _until(last, poll, publication.round)
    finally:
        publication.close()


def keep_consuming(
    url: str, bootstrap: str, recipients: list[str], last: Event, out: Any
) -> None:
    collector.tune()
    quiet_payload_loggers()
    _yield_to_the_play()
    consumers = Consumers(url, bootstrap, recipients).start()
    last.wait()
    out.put(consumers.stop())


def relay_lag(url: str, name: str = "relay") -> int:
    """Messages in the outbox the relay has not yet produced."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE seq > "
            "coalesce((SELECT seq FROM relay_positions WHERE name = %s), 0)",
            (name,),
        ).fetchone()
    return int(row[0]) if row else 0


EVERY_ENROLMENT = ("cbs", "inspectie")  # the recipients told of each enrolment


def consumer_groups(recipients: list[str]) -> list[list[str]]:
    """The recipients a consumer process each: CBS and the Inspectorate, who
    receive every enrolment, one each; SVB with the municipalities, whose
    topics are a trickle. Threads of one process contend for its interpreter
    (the GIL): fifteen consumers in one process used about half as much CPU
    again per message as one alone (docs/benchmarks-notes.md)."""
    alone = [[r] for r in recipients if r in EVERY_ENROLMENT]
    rest = [r for r in recipients if r not in EVERY_ENROLMENT]
    return [*alone, rest] if rest else alone


class Beside:
    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        recipients: list[str],
        poll_seconds: float = 0.5,
    ) -> None:
        assert settings.database_url is not None
        url = settings.database_url.get_secret_value()
        groups = consumer_groups(recipients)
        self._done = [_MP.Event() for _ in range(3 + len(groups))]
        self._stats = _MP.Queue()
        poll = (poll_seconds,)
        parts: tuple[Part, ...] = (
            ("timeline", keep_projections, (settings, False), poll),
            ("extracts", keep_projections, (settings, True), poll),
            ("relay", keep_relaying, (url, bootstrap), poll),
            *(
                ("consumers", keep_consuming, (url, bootstrap, g), (self._stats,))
                for g in groups
            ),
        )
        self._parts = [
            _MP.Process(
                target=_named, args=(name, target, *before, done, *after), name=name
            )
            for (name, target, before, after), done in zip(
                parts, self._done, strict=True
            )
        ]

    def start(self) -> Beside:
        for p in self._parts:
            p.start()
        return self

    def stop_projections(self) -> None:
        self._stop(0)
        self._stop(1)

    def stop_relay(self) -> None:
        self._stop(2)

    def stop_consumers(self) -> dict[str, Any]:
        """What each recipient's consumer stored, once all have settled."""
        consumers = range(3, len(self._parts))
        for i in consumers:
            self._done[i].set()
        stats: dict[str, Any] = {}
        for _ in consumers:
            stats.update(self._stats.get(timeout=600))
        for i in consumers:
            self._parts[i].join(timeout=60)
        return stats

    def _stop(self, i: int) -> None:
        self._done[i].set()
        self._parts[i].join()
        if self._parts[i].exitcode != 0:
            raise RuntimeError(
                f"the {self._parts[i].name} process failed "
                f"(exit {self._parts[i].exitcode}); see its log above"
            )

    def terminate(self) -> None:
        """On an interrupted demo: stop whatever still runs."""
        for p in self._parts:
            if p.is_alive():
                p.terminate()
                p.join(timeout=10)
