"""Shared fixtures: a real PostgreSQL for the session (embedded unless
REGISTRY_DATABASE_URL names one) and a fresh database per test."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.infrastructure.logs import HANDLER_NAME
from registry.infrastructure.redact import PAYLOAD_LOGGERS
from registry.projections.queries.peiling import TimelineFotos


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command run in-process sets logging up for the whole process (the
    CLI's callback): undone after each test, so none sees another's."""
    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REGISTRY_DATABASE_URL")
    if configured:
        yield configured
        return
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    yield embedded.start()
    embedded.stop()


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(server_url, dbname=name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=SecretStr(database_url), clock="simulated", state_dir=tmp_path
    )


class CaughtUpTimeline(TimelineFotos):
    """The timeline as a foto waits for it, with no projector running beside the
    tests: waiting catches it up first, as the daemon would have."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt.projector)
        self.rt = rt

    def wait(self, position: int, timeout: float) -> None:
        self.rt.catch_up()
        super().wait(position, timeout)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    with bootstrap(settings) as rt:
        rt.fotos.timeline = CaughtUpTimeline(rt)
        yield rt


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka bootstrap address: REGISTRY_KAFKA_BOOTSTRAP, else an embedded broker."""
    configured = os.environ.get("REGISTRY_KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    from registry.infrastructure.embedded_kafka import EmbeddedKafka
    from registry.publishing.admin import write_broker_schemas

    # The broker validates every record of the registry's topics against their
    # JSON Schemas (docs/topics), so a leaked field is refused by the broker too.
    schemas = write_broker_schemas(tmp_path_factory.mktemp("topic-schemas"))
    broker = EmbeddedKafka(tmp_path_factory.mktemp("kafka"), schema_dir=schemas)
    try:
        yield broker.start()
    finally:
        broker.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per reliability scenario that ran, with its figures."""
    from tests.reliability import LINES

    if LINES:
        terminalreporter.section("reliability scenarios")
        for line in LINES:
            terminalreporter.write_line(line)
