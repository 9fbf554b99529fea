"""Composition root: builds the registry's services from settings and wires them.
Entry points (api, cli, simulation) call it; nothing below imports it. Nothing
connects at import. The tables are made by migrations (`registry db migrate`);
`bootstrap` applies them itself for the demo and tests only."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from registry.access.reads import ReadAudit
from registry.access.users import AccessService
from registry.application.errors import RecordedTimeWentBack
from registry.application.fotos import Fotos
from registry.application.registry import Registry
from registry.config import Settings
from registry.infrastructure import collector, migrations
from registry.infrastructure.clock import Clock, SystemClock, make_clock, parse_at
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.infrastructure.event_store import event_store_env
from registry.infrastructure.pools import pooled
from registry.infrastructure.redact import quiet_payload_loggers
from registry.intake.population import PersonIn, PostgresPopulationRegister
from registry.intake.service import Intake
from registry.intake.tables import IntakeStore
from registry.projections.engine import catalog
from registry.projections.engine.event_log import EventLog
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import Projector
from registry.projections.extracts.base import ExtractProjection
from registry.projections.queries.peiling import TimelineFotos
from registry.projections.timeline import Timeline
from registry.publishing import contract
from registry.publishing.contract import TopicSchemas
from registry.publishing.relay import Relay, producer
from registry.publishing.round import Publication
from registry.publishing.security import client_security

T = TypeVar("T")
RECORD_ATTEMPTS = 5


def projections(settings: Settings) -> tuple[Projection, ...]:
    """Every projection the registry runs, with the extracts' topics named and
    their payloads checked as the published contract names and checks them."""
    return catalog.projections(settings, contract.topic, payload_check())


def projection(settings: Settings, name: str) -> Projection:
    return catalog.by_name(settings, contract.topic, name, payload_check())


@cache
def payload_check() -> Callable[[str, bytes], str | None]:
    """The contract's schemas, compiled once a process."""
    return TopicSchemas().problem_in


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
    projections: tuple[Projection, ...]
    reads: ReadAudit
    # Where queries that need not read their own writes run: a read replica,
    # or the main database (docs/operations.md "Read replica").
    read_url: str

    def load_population(
        self, persons: Iterable[PersonIn], at: datetime
    ) -> dict[str, int]:
        """Load the register, then record each known person's municipality of
        residence in the log (the extracts route by it). `persons` may be
        read as it is loaded (`stream_persons`)."""
        pairs: list[tuple[str, str | None]] = []
        counts = self.population.load(_residences(persons, pairs), at)
        counts["residences"] = self.registry.record_residences(pairs, at)
        return counts

    def publication(
        self,
        kafka_bootstrap: str,
        *,
        name: str = "relay",
        recipients: str | None = None,
    ) -> Publication:
        """Rounds of the extracts brought up to date and their outbox relayed on
        one producer (`recipients`: a LIKE pattern of the recipients served)."""
        extracts = [p for p in self.projections if isinstance(p, ExtractProjection)]
        # The producer's largest request follows the topics' max.message.bytes.
        security = client_security(self.settings)
        security["max_request_size"] = self.settings.kafka_max_message_bytes
        relay = Relay(
            self.database_url,
            producer(kafka_bootstrap, **security),
            TopicSchemas(),
            name=name,
            recipients=recipients,
        )
        return Publication(
            self.projector,
            extracts,
            relay,
            lambda: producer(kafka_bootstrap, **security),
        )

    def catch_up(self, name: str = Timeline.name) -> str:
        """Bring a projection up to the head of the log now (an entry point's
        choice: queries never do); the schema it is live in."""
        (chosen,) = [p for p in self.projections if p.name == name]
        return self.projector.fresh(chosen)

    def now(self) -> datetime:
        """'Now' for a question (not a record): with a simulated clock, the last
        recorded time, so answers follow the replayed year."""
        last = self.registry.last_recorded_at()
        if self.settings.clock == "simulated" and last is not None:
            return last
        return datetime.now(UTC)

    def at(self, at_text: str | None) -> datetime:
        return self.clock.resolve(parse_at(at_text))

    def record(self, command: Callable[[datetime], T], at_text: str | None) -> T:
        """Run a recording command at its recorded time. With the system clock a
        concurrent writer may have recorded a later instant first: take a fresh
        instant and try again, rather than refuse a command that did nothing wrong."""
        attempts = 1 if at_text is not None else RECORD_ATTEMPTS
        for attempt in range(attempts):
            try:
                return command(self.at(at_text))
            except RecordedTimeWentBack:
                if attempt == attempts - 1 or not isinstance(self.clock, SystemClock):
                    raise
                time.sleep(0.05 * 2**attempt)  # the later writer's instant passes
        raise AssertionError("unreachable")

    def record_now(self, command: Callable[[datetime], T]) -> T:
        """A recording request with no time of its own (the API): now, retried as
        `record` does; with a simulated clock, at the last recorded time."""
        if isinstance(self.clock, SystemClock):
            return self.record(command, None)
        return command(self.now())


def _residences(
    persons: Iterable[PersonIn], pairs: list[tuple[str, str | None]]
) -> Iterator[PersonIn]:
    """The persons as they are loaded, each one's municipality kept aside."""
    for p in persons:
        pairs.append((p.bsn, p.gemeente))
        yield p


def build(settings: Settings, url: str, read_url: str | None = None) -> Runtime:
    """Every service of the registry on the database at `url` (queries on
    `read_url` when given); nothing connects."""
    registry = Registry(env=event_store_env(url, settings))
    population = PostgresPopulationRegister(url)
    projector = Projector(url, EventLog(registry.recorder))
    reads = ReadAudit(url)
    return Runtime(
        settings,
        url,
        make_clock(settings.clock),
        registry,
        AccessService(
            url,
            max_age_days=settings.password_max_age_days,
            session_hours=settings.session_hours,
        ),
        population,
        Intake(registry, IntakeStore(url), population, reads),
        projector,
        Fotos(registry, TimelineFotos(projector), url),
        projections(settings),
        reads,
        read_url or url,
    )


def migrate_url(settings: Settings, url: str) -> str:
    """Where migrations run: the schema owner's URL, else the services' own."""
    owner = settings.migrate_database_url
    return owner.get_secret_value() if owner is not None else url


def migrate_database(
    settings: Settings,
    url: str,
    *,
    grant_to: str | None = None,
    dry_run: bool = False,
) -> list[str]:
    """`registry db migrate`: the pending migrations applied on `url` (the
    schema owner's), then the student numbers of an older database indexed
    from the log. The labels of those applied (or, dry, pending)."""
    applied = migrations.migrate(url, settings, grant_to=grant_to, dry_run=dry_run)
    if not dry_run:
        registry = Registry(env=event_store_env(url, settings))
        try:
            registry.index_student_numbers()  # a no-op once anyone is indexed
        finally:
            registry.close()
    return [m.label for m in applied]


def _prepare(settings: Settings, url: str, migrating: bool) -> bool:
    """Production runs no DDL: its database must have every migration already
    (`registry db migrate`, as the schema's owner). The demo and tests apply
    what is pending themselves. Whether this process migrated."""
    if settings.production or not migrating:
        migrations.check_current(url)
        return False
    migrations.migrate(migrate_url(settings, url), settings)
    return True


@contextmanager
def bootstrap(
    settings: Settings | None = None, *, migrate: bool = True
) -> Iterator[Runtime]:
    """The runtime on the configured database (the embedded one when none is
    given). In development the pending migrations are applied first unless
    `migrate` is off; otherwise (and always in production) a database with a
    migration pending is refused (DatabaseNotMigrated)."""
    settings = settings or Settings()
    settings.check_production()  # before anything embedded starts
    collector.tune()
    quiet_payload_loggers()
    if settings.database_url is None:
        url = EmbeddedPostgres(settings.state_dir).start()
    else:
        url = settings.database_url.get_secret_value()
    size = settings.pool_size + settings.pool_max_overflow
    read = settings.read_database_url
    read_url = read.get_secret_value() if read else url
    with pooled(url, size), pooled(read_url, size):
        # Before the runtime is built: the event store's recorder looks its
        # composite type up when it is made.
        migrated = _prepare(settings, url, migrate)
        runtime = build(settings, url, read_url)
        try:
            if migrated:
                runtime.registry.index_student_numbers()  # once, for an older database
            yield runtime
        finally:
            runtime.registry.close()
