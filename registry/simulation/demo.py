"""`registry demo`: a whole school year end to end on the embedded defaults.

A fresh demo database and an embedded broker; a generated year on real schools
(scale `small` by default: 30 schools, ~6,000 students); the schedule played on
the simulated clock (deliveries and feedback, refusals and re-deliveries,
register outages, completeness declarations, fotos, mutation stops, accountant
mutations, assurance with exclusions, definitieve fotos); publication and the
agencies' consumers running beside it; then a summary and an HTML report.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pyotp
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from registry.access.policy import Role
from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.infrastructure.redact import masked_conninfo
from registry.publishing.admin import (
    TopicSpec,
    contract_topics,
    ensure_contract_topics,
    ensure_topics,
    write_broker_schemas,
)
from registry.publishing.contract import MUNICIPALITY, group, parse_topic
from registry.simulation.generating import Generating
from registry.simulation.processes import Beside, give_way, relay_lag
from registry.simulation.report import write_report
from registry.simulation.summary import gather
from registry.simulation.timing import Stopwatch

SJ = "2026-2027"
DEMO_DB = "registry_demo"
console = Console(stderr=True)

# On the embedded broker a municipality's topics get one partition, as Apache
# Kafka's default: each carries a trickle for one consumer, and kafka-python's
# producer walks every partition it has written to on each pass of its sender
# (docs/publication.md, "In the demo"). The national recipients' topics keep
# three: with one, the agencies' last stage took minutes instead of seconds.
MUNICIPAL_TOPICS = TopicSpec(partitions=1)


def _embedded_topics(address: str) -> None:
    """Every topic of the contract, the municipalities' with one partition."""
    topics = contract_topics()
    municipal = {t for t in topics if group(parse_topic(t)[0]) == MUNICIPALITY}
    ensure_topics(address, [t for t in topics if t not in municipal])
    ensure_topics(address, sorted(municipal), MUNICIPAL_TOPICS)


def _fresh_database(settings: Settings) -> Settings:
    if settings.database_url is None:
        url = EmbeddedPostgres(settings.state_dir, keep_running=False).start()
    else:
        url = settings.database_url.get_secret_value()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DEMO_DB}")
    demo_url = make_conninfo(url, dbname=DEMO_DB)
    return settings.model_copy(
        update={"database_url": SecretStr(demo_url), "clock": "simulated"}
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _access(rt: Runtime) -> None:
    """Seed steps 2–3: an initial password replaced at first login, and TOTP."""
    at = rt.now()
    creds = rt.access.add_user("admin-demo", Role.OPERATOR, at)
    totp = pyotp.TOTP(creds.totp_secret)
    rt.access.change_password(
        creds.login, creds.initial_password, "demo-passphrase", totp.at(at), at
    )
    # Each code works once: the next one (the authenticator's next step).
    rt.access.login(creds.login, "demo-passphrase", totp.at(at, counter_offset=1), at)
    console.print(
        f"operator {creds.login} logged in with a new password and a TOTP code"
    )


MAX_MUNICIPAL_CONSUMERS = 12


def _recipients(year: Path) -> list[str]:
    """CBS, the Inspectorate, SVB and the municipalities the year's schools lie
    in (at most 12 of them: a consumer is a thread with its own connections; at
    national scale the other municipalities' topics are filled but not read)."""
    lines = (year / "schools.jsonl").read_text().splitlines()
    schools = [json.loads(line) for line in lines if line]
    municipalities = sorted(
        {v["gemeente"].lower() for s in schools for v in s["vestigingen"]}
    )
    return ["cbs", "inspectie", "svb", *municipalities[:MAX_MUNICIPAL_CONSUMERS]]


def _play(
    rt: Runtime, year: Path, before: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    from registry.simulation.year import play, schedule_length

    with _progress() as bar:
        task = bar.add_task("school year", total=schedule_length(year))

        def on_op(op: dict[str, Any]) -> None:
            bar.update(task, advance=1, description=f"{op['at'][:10]} {op['op']}")

        played = play(rt, year, on_op=on_op, before=before).__dict__
    played["seconds"] = {k: round(v, 1) for k, v in played["seconds"].items()}
    return played


def run_demo(
    scale: str = "small", seed: int = 1, broker_schemas: bool = False
) -> dict[str, Any]:
    """`broker_schemas`: the embedded broker checks each record against its
    topic's schema too. Off by default, as on Apache Kafka, which checks nothing:
    every message is checked before it is sent (by the extracts as they write
    it, or else by the relay) and by the agencies after, and the broker's check
    took over nine tenths of its CPU for what it received
    (docs/benchmarks-notes.md). The tests keep it on."""
    # A terminated demo stops its broker and database like an interrupted one.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = Settings()
    year = base.state_dir.resolve() / f"demo-year-{scale}"
    clock = Stopwatch()
    # The year is generated in a process of its own while this one starts the
    # servers, and its batches are written while this one loads the register.
    generating = Generating(seed, scale, year)
    broker = None
    try:
        with console.status("generating the school year"), clock("generate"):
            settings, broker, address = _servers(base, broker_schemas)
            generating.wait_ready()
        with bootstrap(settings) as rt:
            return _year(rt, address, year, scale, clock, generating.before)
    finally:
        _stop_broker(broker)
        generating.stop()


def _servers(
    base: Settings, broker_schemas: bool
) -> tuple[Settings, EmbeddedKafka | None, str]:
    """The demo's database (fresh), the broker (embedded unless one is
    configured) and the contract's topics on it."""
    settings = _fresh_database(base)
    state = base.state_dir.resolve()
    broker = None
    address = base.kafka_bootstrap
    if address is None:
        schemas = write_broker_schemas(state / "topic-schemas") if broker_schemas else None
        broker = EmbeddedKafka(state / "kafka", schemas)
        address = broker.start()
        if broker.pid is not None:  # only the publication uses it: it gives way too
            give_way(broker.pid)
    try:
        if broker is not None:
            _embedded_topics(address)
        else:
            ensure_contract_topics(address, TopicSpec.of(base))
    except BaseException:
        _stop_broker(broker)
        raise
    return settings, broker, address


def _stop_broker(broker: EmbeddedKafka | None) -> None:
    if broker is not None:
        broker.stop()


def _year(
    rt: Runtime,
    address: str,
    year: Path,
    scale: str,
    clock: Stopwatch,
    before: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    beside = Beside(rt.settings, address, _recipients(year)).start()
    try:
        with clock("play the year"):
            played = _play(rt, year, before)
            _access(rt)
        with console.status("projections catching up"), clock("projections catch-up"):
            beside.stop_projections()
        # What the summary reads is final once the projections are: it is
        # gathered beside the relay's and the consumers' last rounds, which
        # mostly wait (for the broker, for quiet).
        with ThreadPoolExecutor(1) as pool:
            gathering = pool.submit(_gather, rt, scale, clock)
            with console.status("relaying what is left"), clock("relay catch-up"):
                beside.stop_relay()
            with console.status("consumers storing the rest"), clock("consumers settle"):
                stored = beside.stop_consumers()
            with console.status("summary"):
                summary = gathering.result()
    finally:
        beside.terminate()
    summary["lag"]["relay"] = relay_lag(rt.database_url)
    summary["played"] = played
    summary["stages"] = clock.stages
    summary["consumers"] = {
        r: {k: v for k, v in c.items() if k != "assigned"} for r, c in stored.items()
    }
    summary["database_url"] = masked_conninfo(rt.database_url)
    report = write_report(rt.settings.state_dir.resolve() / "report.html", summary)
    summary["report"] = str(report)
    _print(summary)
    return summary


def _gather(rt: Runtime, scale: str, clock: Stopwatch) -> dict[str, Any]:
    with clock("summary"):  # beside the relay's and consumers' stages
        return gather(rt, SJ, scale, relay_lag=None)


def _print(summary: dict[str, Any]) -> None:
    cards = Table(title=f"School year {summary['schooljaar']} ({summary['scale']})")
    cards.add_column("what")
    cards.add_column("count", justify="right")
    for k, v in summary["cards"].items():
        cards.add_row(k, f"{v:,}")
    console.print(cards)
    stored = {r: c["stored"] for r, c in summary["consumers"].items()}
    played_seconds = summary["played"]["seconds"]
    for title, columns, data in (
        ("Signals by code", ("code", "signals"), summary["signals"]),
        ("Not funded, by reason", ("reason", "periods"), summary["unfunded"]),
        ("Funding per school", ("school", "EUR"), summary["funding"]),
        ("Messages per topic", ("topic", "messages"), summary["topics"]),
        ("Stored by the agencies' consumers", ("recipient", "messages"), stored),
        ("Lag", ("component", "behind"), summary["lag"]),
        ("Play: seconds per operation", ("operation", "seconds"), played_seconds),
        (
            "Wall-clock seconds per stage (the summary beside the last two)",
            ("stage", "seconds"),
            summary["stages"],
        ),
    ):
        console.print(_table(title, columns, data))
    console.print(f"report: {summary['report']}")
    console.print(
        f"database: {summary['database_url']} (REGISTRY_DATABASE_URL for `registry serve`)"
    )


SHOWN_ROWS = 25


def _table(title: str, columns: tuple[str, str], data: dict[str, Any]) -> Table:
    """At most SHOWN_ROWS rows (the largest values when there are more: at
    national scale there are hundreds of schools and topics; the report and
    the API have them all)."""
    rows = list(data.items()) if title.startswith("Wall") else sorted(data.items())
    if len(rows) > SHOWN_ROWS:
        rows = sorted(rows, key=lambda kv: -kv[1])[:SHOWN_ROWS]
        title += f" (largest {SHOWN_ROWS} of {len(data):,})"
    t = Table(title=title, title_justify="left")
    t.add_column(columns[0])
    t.add_column(columns[1], justify="right")
    for k, v in rows:
        t.add_row(str(k), f"{v:,.2f}" if isinstance(v, float) else f"{v:,}")
    return t
