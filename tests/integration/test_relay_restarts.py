"""The relay through a broker restart and a database restart: it keeps one
producer (a new one only after the broker failed a round), backs off, and
every message of the outbox reaches its topic; a resend carries its original
id. A database and a broker of the tests' own, so stopping them disturbs no
other test. The broker keeps its records in memory: what it held before its
restart is read before it stops."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from kafka.errors import KafkaError
from pydantic import SecretStr

from registry.bootstrap import bootstrap as open_runtime
from registry.config import Settings
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.projections.extracts import outbox
from registry.publishing.admin import ensure_topics
from registry.publishing.relay import producer
from tests.integration.test_relay import read_all
from tests.integration.test_relay_kill import add, messages

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 180  # a generous bound on a wait, not a timing assertion


@pytest.fixture
def database(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    if os.environ.get("REGISTRY_DATABASE_URL"):
        pytest.skip("stops a server of its own: needs the embedded PostgreSQL")
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedKafka]:
    if os.environ.get("REGISTRY_KAFKA_BOOTSTRAP"):
        pytest.skip("stops a broker of its own: needs the embedded one")
    kafka = EmbeddedKafka(tmp_path / "kafka")
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


def batch_of(start: int, count: int) -> list[outbox.Message]:
    """Valid messages on the contract's own topics (the broker is this test's)."""
    return [
        dataclasses.replace(m, topic=m.topic.rsplit(".", 1)[0])
        for m in messages(start, count, "x")
    ]


def topics() -> list[str]:
    return sorted({m.topic for m in batch_of(0, 5)})


def ids_on(bootstrap: str) -> set[str]:
    return {dict(r.headers)["ce_id"].decode() for r in read_all(bootstrap, topics())}


def outbox_ids(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {str(r[0]) for r in conn.execute("SELECT message_id FROM outbox")}


def restart(broker: EmbeddedKafka, address: str) -> str:
    """Start the stopped broker again where its clients point."""
    bootstrap = broker.start(int(address.rsplit(":", 1)[1]))
    ensure_topics(bootstrap, topics())  # a real cluster keeps its topics
    return bootstrap


def test_one_producer_replaced_only_after_the_broker_failed(
    database: EmbeddedPostgres, broker: EmbeddedKafka, tmp_path: Path
) -> None:
    url, bootstrap = database.start(), broker.start()
    ensure_topics(bootstrap, topics())
    settings = Settings(database_url=SecretStr(url), state_dir=tmp_path)
    made: list[object] = []

    def new_producer() -> object:
        # Quick to give up on a broker that is down, so a round fails soon.
        kafka = producer(
            bootstrap,
            request_timeout_ms=2000,
            delivery_timeout_ms=4000,
            max_block_ms=4000,
            reconnect_backoff_max_ms=500,
        )
        made.append(kafka)
        return kafka

    with open_runtime(settings) as rt:
        publication = rt.publication(bootstrap)
        publication.relay.kafka = new_producer()
        publication.new_producer = new_producer  # type: ignore[assignment]
        add(url, batch_of(0, 20))
        assert publication.round() == 20
        first = ids_on(bootstrap)

        database.stop()  # the database fails a round: the producer stays
        with pytest.raises(psycopg.OperationalError):
            publication.round()
        database.start()
        add(url, batch_of(20, 20))
        assert publication.round() == 20
        assert (len(made), publication.replaced) == (1, 0)
        first |= ids_on(bootstrap)

        broker.stop()  # the broker fails a round: a new producer next round
        add(url, batch_of(40, 20))
        with pytest.raises(KafkaError):
            # The round's sends are buffered; waiting for them to land fails.
            publication.round()
            publication.settle()
        restart(broker, bootstrap)
        assert publication.round() == 20  # what the failed round held, again
        add(url, batch_of(60, 20))
        assert publication.round() == 20
        assert (len(made), publication.replaced) == (2, 1)
        publication.close()
        second = ids_on(bootstrap)
    assert first | second == outbox_ids(url)
    assert len(outbox_ids(url)) == 80


class Relay:
    """`registry publish relay` in a process of its own, its log lines kept."""

    def __init__(self, url: str, bootstrap: str, state: Path) -> None:
        env = {
            **os.environ,
            "REGISTRY_DATABASE_URL": url,
            "REGISTRY_KAFKA_BOOTSTRAP": bootstrap,
            "REGISTRY_STATE_DIR": str(state),
            "REGISTRY_LOG_FORMAT": "json",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry.cli.main",
                "publish",
                "relay",
                "--poll",
                "0.2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[dict[str, object]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def logged(self, text: str) -> bool:
        return any(text in str(line["message"]) for line in self.lines)

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=120)


def wait_for(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


def relayed(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT (SELECT max(seq) FROM outbox) <= "
                    "(SELECT seq FROM relay_positions WHERE name = 'relay')"
                ).fetchone()
        except psycopg.OperationalError:
            return False
        return bool(row and row[0])

    return check


def test_a_running_relay_survives_broker_and_database_restarts(
    database: EmbeddedPostgres, broker: EmbeddedKafka, tmp_path: Path
) -> None:
    url, bootstrap = database.start(), broker.start()
    ensure_topics(bootstrap, topics())
    with open_runtime(Settings(database_url=SecretStr(url), state_dir=tmp_path)):
        pass  # the tables
    relay = Relay(url, bootstrap, tmp_path)
    try:
        add(url, batch_of(0, 30))
        wait_for(relayed(url), "the first messages")
        before = ids_on(bootstrap)  # the broker forgets them when it stops

        broker.stop()
        add(url, batch_of(30, 30))  # while the broker is down
        restart(broker, bootstrap)
        wait_for(relayed(url), "the messages added while the broker was down")

        database.stop()
        wait_for(lambda: relay.logged("round failed ("), "the relay to notice")
        database.start()
        add(url, batch_of(60, 30))
        wait_for(relayed(url), "the messages added after the database came back")
        after = ids_on(bootstrap)
    finally:
        code = relay.stop()
    assert code == 0
    assert before | after == outbox_ids(url)
    assert len(before | after) == 90
