"""A bounded load test on loopback (issue 16, item 5): the API as production
runs it (`registry serve --workers 2`, the app factory, system clock) answers
snapshot queries of a school of national size (the largest school: about
11,000 enrolments) and deliveries from several clients at once. It reports
requests/s, p50/p99 and the error rate, and fails on any server error or
refused connection. No timing is asserted: these machines are noisy.

Marked slow: `make reliability` runs it (`LOAD_SECONDS`, default 20)."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from tests.factories import SJ
from tests.intake_helpers import batch, prepare, rec, student
from tests.integration.test_api_kill import Server, bsns, person, session
from tests.reliability import report

SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
LARGEST = 11_000  # enrolments of the largest school (docs/benchmarks.md)
CLIENTS = 6
DELIVERY = 100  # records a delivery during the load
WORKERS = int(os.environ.get("LOAD_WORKERS", "2"))
MAX_DELIVERIES = 60  # batches of new students the population holds


class ServeWorkers(Server):
    """`registry serve --workers N` instead of one in-process app."""

    def spawn(self) -> subprocess.Popen[bytes]:
        command = [
            sys.executable, "-m", "registry.cli.main", "serve",
            "--port", str(self.port), "--workers", str(WORKERS),
        ]  # fmt: skip
        log = open(os.environ.get("LOAD_SERVER_LOG", os.devnull), "w")  # noqa: SIM115
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=log)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn's graceful stop
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.mark.slow
def test_snapshots_and_deliveries_under_load(runtime: Runtime, tmp_path: Path) -> None:
    prepare(runtime)
    numbers = bsns(400_000_000, LARGEST + (MAX_DELIVERIES + 2) * DELIVERY)
    runtime.population.load(
        [PersonIn.model_validate(person(n)) for n in numbers],
        datetime(2026, 7, 2, tzinfo=UTC),
    )
    headers = session(runtime)
    big = batch(
        *(rec(i + 1, student(person(n))) for i, n in enumerate(numbers[:LARGEST]))
    )
    fed = runtime.intake.submit(big, datetime.now(UTC)).feedback
    assert fed["goedgekeurd"] == LARGEST
    runtime.catch_up()
    later = iter(numbers[LARGEST:])
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": runtime.database_url,
        "REGISTRY_STATE_DIR": str(tmp_path),
        "REGISTRY_CLOCK": "system",
    }
    server = ServeWorkers(env)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    numbers_lock = threading.Lock()
    serial = iter(range(2, 1000))

    def client(k: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                deliver = k == 0  # one client delivers, the others read
                kind = "delivery" if deliver else "snapshot"
                began = time.monotonic()
                try:
                    if deliver:
                        with numbers_lock:
                            number = next(serial)
                            if number <= MAX_DELIVERIES:
                                chunk = [next(later) for _ in range(DELIVERY)]
                        if number > MAX_DELIVERIES:
                            time.sleep(0.5)  # the numbers set aside are used up
                            continue
                        body = batch(
                            *(
                                rec(i + 1, student(person(n)))
                                for i, n in enumerate(chunk)
                            ),
                            number=number,
                        )
                        answer = http.post("/v1/batches", content=body)
                    else:
                        answer = http.get(
                            f"/v1/schools/01OE/years/{SJ}/snapshot",
                            params={"limit": 1000},
                        )
                    ok = answer.status_code == 200
                    detail = f"{kind} {answer.status_code}"
                except (httpx.HTTPError, StopIteration) as e:
                    ok, detail = False, f"{kind} {type(e).__name__}"
                with lock:
                    latencies[kind].append(time.monotonic() - began)
                    if not ok:
                        errors.append(detail)

    try:
        server.start()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
    finally:
        server.stop()
    total = sum(len(v) for v in latencies.values())
    figures: dict[str, Any] = {"workers": WORKERS, "clients": CLIENTS}
    figures["req_per_s"] = round(total / elapsed, 1)
    for kind in ("snapshot", "delivery"):
        ms = sorted(1000 * x for x in latencies[kind])
        if ms:
            figures[f"{kind}_n"] = len(ms)
            figures[f"{kind}_p50_ms"] = round(statistics.median(ms))
            figures[f"{kind}_p99_ms"] = round(ms[min(len(ms) - 1, int(0.99 * len(ms)))])
    figures["errors"] = len(errors)
    report("load (serve --workers 2)", **figures)
    assert not errors, errors[:10]
    assert latencies["snapshot"] and latencies["delivery"]
