"""`/healthz` and `/readyz` (issue 17, item 4, in part): alive without asking
anything; ready when the database answers and the configured broker can be
reached; a 503 problem naming the dependency otherwise. No login needed."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from registry.api.app import create_app
from registry.bootstrap import Runtime


def test_alive_and_ready_without_a_login(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "not configured"},
    }


def test_not_ready_when_the_broker_cannot_be_reached(
    runtime: Runtime, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(create_app(runtime))
    monkeypatch.setattr(runtime.settings, "kafka_bootstrap", kafka_bootstrap)
    assert client.get("/readyz").json()["checks"]["broker"] == "ok"
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setattr(runtime.settings, "kafka_bootstrap", dead)
    down = client.get("/readyz")
    assert down.status_code == 503 and down.headers["retry-after"] == "5"
    assert down.json()["type"].endswith("broker-unavailable")
