"""Composition root: builds every application from settings. Nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from psycopg.conninfo import conninfo_to_dict

from registry.access.users import AccessService
from registry.application.errors import RecordedTimeWentBack
from registry.application.fotos import Fotos
from registry.application.registry import Registry
from registry.config import Settings
from registry.infrastructure import collector
from registry.infrastructure.clock import Clock, SystemClock, make_clock, parse_at
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.infrastructure.event_store import RegistryRecorder
from registry.infrastructure.pools import pooled
from registry.intake.population import PostgresPopulationRegister
from registry.intake.service import Intake
from registry.intake.tables import IntakeStore
from registry.projections.engine import catalog
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import Projector
from registry.publishing import contract

T = TypeVar("T")


def event_store_env(url: str, settings: Settings) -> dict[str, str]:
    """The eventsourcing library's settings for the registry's event store."""
    info = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": f"{RegistryRecorder.__module__}:RegistryRecorder",
        "POSTGRES_DBNAME": str(info.get("dbname", "postgres")),
        "POSTGRES_HOST": str(info.get("host", "localhost")),
        "POSTGRES_PORT": str(info.get("port", "5432")),
        "POSTGRES_USER": str(info.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(info.get("password", "")),
        # Keep the library's locked insert path: with DB functions on, tailing
        # readers can miss events (9.5.6).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_LOCK_TIMEOUT": str(settings.lock_timeout_seconds),
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pool_max_overflow),
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30000",
        "CREATE_TABLE": "y",
    }


def projections(settings: Settings) -> tuple[Projection, ...]:
    """Every projection the registry runs, with the extracts' topics named as
    the published contract names them."""
    return catalog.projections(settings, contract.topic)


def projection(settings: Settings, name: str) -> Projection:
    return catalog.by_name(settings, contract.topic, name)


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    clock: Clock
    registry: Registry
    access: AccessService
    population: PostgresPopulationRegister
    intake: Intake
    projector: Projector
    fotos: Fotos

    def now(self) -> datetime:
        """'Now' for a question (not a record): with a simulated clock, the last
        recorded time, so answers follow the replayed year."""
        last = self.registry.recorder.last_recorded_at()  # type: ignore[attr-defined]
        if self.settings.clock == "simulated" and last is not None:
            return last  # type: ignore[no-any-return]
        return datetime.now(UTC)

    def at(self, at_text: str | None) -> datetime:
        return self.clock.resolve(parse_at(at_text))

    def record(self, command: Callable[[datetime], T], at_text: str | None) -> T:
        """Run a recording command at its recorded time. With the system clock a
        concurrent writer may have recorded a later instant first: take a fresh
        instant and try again, rather than refuse a command that did nothing wrong."""
        attempts = 1 if at_text is not None else 3
        for attempt in range(attempts):
            try:
                return command(self.at(at_text))
            except RecordedTimeWentBack:
                if attempt == attempts - 1 or not isinstance(self.clock, SystemClock):
                    raise
        raise AssertionError("unreachable")


@contextmanager
def bootstrap(settings: Settings | None = None) -> Iterator[Runtime]:
    settings = settings or Settings()
    collector.tune()
    embedded: EmbeddedPostgres | None = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.state_dir)
        url = embedded.start()
    else:
        url = settings.database_url.get_secret_value()
    registry = Registry(env=event_store_env(url, settings))
    try:
        with pooled(url, settings.pool_size + settings.pool_max_overflow):
            access = AccessService(
                url,
                max_age_days=settings.password_max_age_days,
                session_hours=settings.session_hours,
            )
            population = PostgresPopulationRegister(url)
            intake = Intake(registry, IntakeStore(url), population)
            projector = Projector(url)
            yield Runtime(
                settings,
                url,
                make_clock(settings.clock),
                registry,
                access,
                population,
                intake,
                projector,
                Fotos(registry, projector, url),
            )
    finally:
        registry.close()
