"""`/metrics`: Prometheus' text format without a login, the projections' and
the relay's lag with their labels, request latency by route, deliveries and
their signals, and no person or school in it; with `serve --workers 2` the
workers' counts summed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from registry.projections.engine.multi import fresh_together
from registry.projections.extracts.base import ExtractProjection
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student
from tests.integration.test_access import login
from tests.integration.test_load import ServeWorkers

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def extracts(rt: Runtime) -> list[ExtractProjection]:
    return [p for p in rt.projections if isinstance(p, ExtractProjection)]


def test_metrics_after_a_tiny_delivery(runtime: Runtime) -> None:
    rt = runtime
    prepare(rt)
    timeline = rt.catch_up()
    client = TestClient(create_app(rt))
    headers = login(client, rt, "operator", Role.OPERATOR, rt.now())
    delivered = client.post(
        "/v1/batches",
        content=batch(rec(1, student(ANNA)), rec(2, student(PIET)), rec(3, {})),
        headers=headers,
    )
    assert delivered.status_code == 200, delivered.text
    feedback = delivered.json()
    fresh_together(rt.projector, extracts(rt))  # the outbox filled, not relayed

    answer = client.get("/metrics")  # no login
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    got = scrape(answer.text)

    # The timeline was not caught up after the delivery: it lags by its events.
    (status,) = [s for s in rt.projector.status() if s.schema == timeline]
    lag = value(
        got,
        "registry_projection_lag",
        projection="timeline",
        schema=timeline,
        live="true",
    )
    assert lag == status.lag > 0
    assert value(got, "registry_log_head") == status.head
    for p in extracts(rt):
        assert (
            value(
                got,
                "registry_projection_lag",
                projection=p.name,
                schema=p.schema(),
                live="true",
            )
            == 0
        )
    # Every message of the outbox waits for the relay, counted per recipient.
    with psycopg.connect(rt.database_url) as conn:
        waiting = dict(
            conn.execute("SELECT recipient, count(*) FROM outbox GROUP BY recipient")
        )
    assert waiting["cbs"] == 2 and waiting["gm0014"] == 2
    for recipient, n in waiting.items():
        assert value(got, "registry_relay_lag", relay="relay", recipient=recipient) == n
    assert value(got, "registry_relay_lag", relay="relay", recipient="gm0363") == 0
    assert value(got, "registry_relay_position", relay="relay") == 0

    # The delivery: its latency, by route template, and what it held.
    assert (
        value(
            got,
            "registry_http_request_duration_seconds_count",
            method="POST",
            route="/v1/batches",
            status="200",
        )
        == 1
    )
    assert value(got, "registry_batches_total", outcome="recorded") == 1
    records = {
        "goedgekeurd": feedback["goedgekeurd"],
        "afgekeurd": feedback["afgekeurd"],
    }
    assert records == {"goedgekeurd": 2, "afgekeurd": 1}
    for word, n in records.items():
        assert value(got, "registry_batch_records_total", status=word) == n
    codes = [s["code"] for m in feedback["meldingen"] for s in m["signalen"]]
    assert codes
    for code in set(codes):
        assert sum(
            v
            for (name, labels), v in got.items()
            if name == "registry_batch_signals_total" and ("code", code) in labels
        ) == codes.count(code)
    assert value(got, "registry_last_batch_received_timestamp_seconds") is not None
    # Nobody in it: no number, no school.
    for secret in (ANNA["bsn"], PIET["bsn"], "01OE", "Jansen"):
        assert secret not in answer.text


def test_a_path_no_route_takes_is_one_label(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    for path in ("/v1/students/800000481", "/nothing/here"):
        assert client.get(path).status_code == 404
    got = scrape(client.get("/metrics").text)
    assert (
        value(
            got,
            "registry_http_request_duration_seconds_count",
            method="GET",
            route="(unmatched)",
            status="404",
        )
        == 2
    )


@pytest.fixture
def served(runtime: Runtime, tmp_path: Path) -> Iterator[ServeWorkers]:
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": runtime.database_url,
        "REGISTRY_STATE_DIR": str(tmp_path),
        "REGISTRY_CLOCK": "system",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = ServeWorkers(env)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_with_workers_the_counts_of_every_worker_are_summed(
    served: ServeWorkers, tmp_path: Path
) -> None:
    files = tmp_path / "metrics"  # STATE_DIR/metrics: serve's default
    sent = 0
    # A new connection each: until both workers have answered some (each
    # keeps its counts in a file of its own), so neither holds them all.
    while len(list(files.glob("histogram_*.db"))) < 2:
        assert sent < 500, "one worker answered every request"
        assert httpx.get(served.url + "/healthz").status_code == 200
        sent += 1
    for _ in range(3):  # whichever worker answers the scrape sums them all
        got = scrape(httpx.get(served.url + "/metrics").text)
        assert (
            value(
                got,
                "registry_http_request_duration_seconds_count",
                method="GET",
                route="/healthz",
                status="200",
            )
            == sent
        )
        assert value(got, "registry_relay_position", relay="relay") == 0
