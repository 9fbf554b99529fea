"""The database down and back (issue 16, item 3): the API answers 503 with
Retry-After while it is down and every request after it is back succeeds (no
stale pooled connection is handed out); a command says so in one line and
exits 3. A server of this test's own, so stopping it disturbs no other test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import bootstrap
from registry.config import Settings
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import prepare
from tests.integration.test_access import login


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    if os.environ.get("REGISTRY_DATABASE_URL"):
        pytest.skip("stops a server of its own: needs the embedded PostgreSQL")
    embedded = EmbeddedPostgres(tmp_path / "own")
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def test_the_api_answers_503_while_down_and_every_request_after(
    server: EmbeddedPostgres, tmp_path: Path
) -> None:
    url = server.start()  # attached: the same server, its URL
    settings = Settings(
        database_url=SecretStr(url), clock="simulated", state_dir=tmp_path
    )
    with bootstrap(settings) as rt:
        prepare(rt)
        rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 1))
        client = TestClient(create_app(rt), raise_server_exceptions=False)
        headers = login(client, rt, "operator", Role.OPERATOR, rt.now())
        year = f"/v1/schools/01OE/years/{SJ}"
        assert client.get(year, headers=headers).status_code == 200

        server.stop()
        for path in ("/v1/me", year, "/readyz"):
            down = client.get(path, headers=headers)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            assert down.json()["type"].endswith("database-unavailable")

        server.start()
        answers = [client.get(year, headers=headers).status_code for _ in range(20)]
        answers += [client.get("/v1/me", headers=headers).status_code for _ in range(5)]
        assert answers == [200] * 25


def test_a_command_says_unavailable_in_one_line(
    server: EmbeddedPostgres, tmp_path: Path
) -> None:
    url = server.start()
    server.stop()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_STATE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli.main", "feedback", "01OE", "0", SJ, "1"],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == ["registry: the database is unavailable: try again shortly"]


def test_the_relay_waits_for_a_broker_that_is_down(
    database_url: str, tmp_path: Path
) -> None:
    """With --once it says so in one line and exits 3; without, it waits and
    tries again (backing off) until stopped, losing nothing: the outbox keeps."""
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_STATE_DIR": str(tmp_path),
        "REGISTRY_KAFKA_BOOTSTRAP": "127.0.0.1:1",  # nothing listens there
    }
    command = [sys.executable, "-m", "registry.cli.main", "publish", "relay"]
    once = subprocess.run(
        [*command, "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert once.returncode == 3, once.stderr
    assert once.stderr.strip().splitlines() == [
        "registry: refused: the broker is unavailable (KafkaTimeoutError)"
    ]
    waiting = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    assert waiting.stderr is not None
    first = waiting.stderr.readline()
    waiting.terminate()
    waiting.wait(timeout=60)
    assert "broker unavailable (KafkaTimeoutError), trying again" in first
