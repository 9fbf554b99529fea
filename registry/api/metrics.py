"""`GET /metrics` in Prometheus' text format, without a login and without a
person in it: labels are projection names, relay names, recipients, topics,
routes, statuses and signal codes, never a school or a student.

Two kinds of figures:
- Read from the database on every scrape (`DatabaseFigures`): the projections'
  lag, what waits for each relay per recipient, the refused messages, the last
  batch's time. Each is an indexed or capped query, and they are the same
  whichever worker answers.
- Counted by the API process as it serves (`Instruments`): request latency by
  route and status, deliveries and their records and signals. With several
  workers (`registry serve --workers N`) prometheus_client's multiprocess mode
  sums the workers' counts: `serve` points PROMETHEUS_MULTIPROC_DIR at a fresh
  directory before it starts them (docs/operations.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.bootstrap import Runtime
from registry.intake.feedback import FeedbackDocument
from registry.publishing import backlog

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
UNMATCHED = "(unmatched)"  # a path no route took: not a label of its own each
STATUS_WORDS = {"G": "goedgekeurd", "A": "afgekeurd", "W": "wachtend"}


def multiprocess() -> bool:
    """Whether prometheus_client keeps its values in PROMETHEUS_MULTIPROC_DIR
    (decided when it was first imported)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


class Instruments:
    """What the API counts as it serves. Registered nowhere: a scrape gathers
    them (or, with workers, every worker's files)."""

    def __init__(self) -> None:
        self.requests = Histogram(
            "registry_http_request_duration_seconds",
            "Time to answer a request, by method, route (template) and status",
            ("method", "route", "status"),
            buckets=BUCKETS,
            registry=None,
        )
        self.batches = Counter(
            "registry_batches",
            "Batches delivered through the API, by outcome: recorded, "
            "redelivered (same content again), trial (dry run), refused (whole)",
            ("outcome",),
            registry=None,
        )
        self.records = Counter(
            "registry_batch_records",
            "Records of recorded batches, by status: goedgekeurd, afgekeurd, wachtend",
            ("status",),
            registry=None,
        )
        self.signals = Counter(
            "registry_batch_signals",
            "Signals given on records of recorded batches, by code and ernst",
            ("code", "ernst"),
            registry=None,
        )

    def all(self) -> tuple[Collector, ...]:
        return (self.requests, self.batches, self.records, self.signals)

    def delivery(self, feedback: FeedbackDocument, recorded: bool, trial: bool) -> None:
        if trial or not recorded:
            self.batches.labels("trial" if trial else "redelivered").inc()
            return
        self.batches.labels("recorded").inc()
        for entry in feedback["meldingen"]:
            self.records.labels(STATUS_WORDS[entry["status"]]).inc()
            for signal in entry["signalen"]:
                self.signals.labels(signal["code"], signal["ernst"]).inc()

    def refused(self) -> None:
        self.batches.labels("refused").inc()


class RequestTimer:
    """ASGI middleware: each request's time, labelled by its route's template
    (`/v1/schools/{brin}/…`, not the path: no school in a label)."""

    def __init__(self, app: ASGIApp, instruments: Instruments) -> None:
        self.app = app
        self.instruments = instruments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.instruments.requests.labels(
                scope["method"], route, str(status[0])
            ).observe(time.perf_counter() - began)


class DatabaseFigures(Collector):
    """The gauges read from the database at scrape time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def describe(self) -> Iterable[Metric]:
        return []  # no names to check up front: read on collect only

    def collect(self) -> Iterator[Metric]:
        yield from self._projections()
        yield from self._relays()
        url = self.runtime.database_url
        refused = GaugeMetricFamily(
            "registry_outbox_refused",
            "Messages refused for their topic (schema, size) and not redriven",
            labels=("topic",),
        )
        for topic, n in backlog.refused(url).items():
            refused.add_metric((topic,), n)
        yield refused
        last = self.runtime.intake.store.last_received()
        batch = GaugeMetricFamily(
            "registry_last_batch_received_timestamp_seconds",
            "When the last batch was received (Unix time; absent before the first)",
        )
        if last is not None:
            batch.add_metric((), last.timestamp())
        yield batch

    def _projections(self) -> Iterator[Metric]:
        labels = ("projection", "schema", "live")
        lag = GaugeMetricFamily(
            "registry_projection_lag",
            "Log positions between the head of the log and the projection's",
            labels=labels,
        )
        position = GaugeMetricFamily(
            "registry_projection_position",
            "The projection's log position",
            labels=labels,
        )
        stopped = GaugeMetricFamily(
            "registry_projection_stopped",
            "1 when the projection stopped at an event it could not apply",
            labels=labels,
        )
        head = GaugeMetricFamily("registry_log_head", "The head of the event log")
        statuses = self.runtime.projector.status()
        head.add_metric((), self.runtime.projector.log.head())
        for s in statuses:
            key = (s.name, s.schema, str(s.live).lower())
            lag.add_metric(key, s.lag)
            position.add_metric(key, s.position)
            stopped.add_metric(key, int(s.failed_at is not None))
        yield from (head, lag, position, stopped)

    def _relays(self) -> Iterator[Metric]:
        url = self.runtime.database_url
        lag = GaugeMetricFamily(
            "registry_relay_lag",
            f"Outbox messages after the relay's position, by recipient (counted "
            f"up to {backlog.LAG_CAP} a relay)",
            labels=("relay", "recipient"),
        )
        position = GaugeMetricFamily(
            "registry_relay_position",
            "The outbox seq the relay has sent up to",
            labels=("relay",),
        )
        head = GaugeMetricFamily("registry_outbox_head", "The last outbox seq")
        head.add_metric((), backlog.outbox_head(url))
        for relay in backlog.relays(url):
            position.add_metric((relay.name,), relay.position)
            for recipient in relay.served():
                lag.add_metric((relay.name, recipient), relay.waiting.get(recipient, 0))
        yield from (head, lag, position)


def exposition(instruments: Instruments, runtime: Runtime) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for instrument in instruments.all():
            registry.register(instrument)
    registry.register(DatabaseFigures(runtime))
    return generate_latest(registry)


def install(app: FastAPI) -> None:
    """The request timer and the `/metrics` route (outside the OpenAPI
    document: it is Prometheus' format, not the API's)."""
    instruments = Instruments()
    app.state.instruments = instruments
    app.add_middleware(RequestTimer, instruments=instruments)

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(
            exposition, instruments, request.app.state.runtime
        )
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)


def instruments_of(request: Request) -> Instruments | None:
    found: Any = getattr(request.app.state, "instruments", None)
    return found if isinstance(found, Instruments) else None
