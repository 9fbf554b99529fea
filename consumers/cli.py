"""`python -m consumers RECIPIENT` (or `registry-agency RECIPIENT`): the
reference consumer of one agency, on the agency's own settings (AGENCY_*).
Prints what it did as JSON when it stops (SIGTERM, or `--idle-exit`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable

from consumers.agency import AgencyConsumer, Stats
from consumers.settings import AgencySettings


def run(consumer: AgencyConsumer, idle_exit: float | None = None) -> dict[str, object]:
    """Run until SIGTERM, or until nothing has come for `idle_exit` seconds
    once the group has given it its partitions; what it did."""
    consumer.install_signal_handlers()
    stats = consumer.run(until=idle(idle_exit))
    return dict(stats.__dict__)


def idle(seconds: float | None) -> Callable[[Stats], bool]:
    state = {"since": time.monotonic(), "seen": -1.0}

    def until(stats: Stats) -> bool:
        seen = stats.handled
        if seen != state["seen"] or not stats.assigned:  # idle once assigned
            state.update(since=time.monotonic(), seen=seen)
        return seconds is not None and time.monotonic() - state["since"] > seconds

    return until


def check(settings: AgencySettings) -> int:
    """One query on the agency's database and a connection to the broker; a
    line saying which failed (the error's class only: a text may quote a
    value), exit 1."""
    import psycopg
    from kafka import KafkaConsumer

    try:
        with psycopg.connect(settings.database(), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except (ValueError, psycopg.Error) as e:
        print(f"registry-agency: database: {type(e).__name__}", file=sys.stderr)  # noqa: T201
        return 1
    try:
        probe = KafkaConsumer(
            bootstrap_servers=settings.bootstrap(),
            **settings.security(),
        )
        try:
            probe.topics()  # a metadata round trip: connected and authorised
        finally:
            probe.close()
    except Exception as e:  # no broker, refused credentials, a missing setting
        print(f"registry-agency: broker: {type(e).__name__}", file=sys.stderr)  # noqa: T201
        return 1
    print(json.dumps({"database": "ok", "broker": "ok"}))  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="registry-agency",
        description="Load a recipient's topics into its own PostgreSQL schema "
        "(docs/agency-kit.md). Settings: AGENCY_* environment variables.",
    )
    parser.add_argument(
        "recipient",
        nargs="?",
        help="cbs, inspectie, svb or gmNNNN (else AGENCY_RECIPIENT)",
    )
    parser.add_argument(
        "--idle-exit", type=float, help="stop after this many idle seconds"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="a health check: exit 0 when the database and the broker answer",
    )
    args = parser.parse_args(argv)
    if args.check:
        return check(AgencySettings())
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    # Its connections named in the agency's pg_stat_activity, unless it named them.
    os.environ.setdefault("PGAPPNAME", f"registry-agency {args.recipient or ''}".strip())
    try:
        consumer = AgencyConsumer.from_settings(AgencySettings(), args.recipient)
    except ValueError as e:  # a setting missing or invalid, an unknown recipient
        print(f"registry-agency: refused: {e}", file=sys.stderr)  # noqa: T201
        return 2
    print(json.dumps(run(consumer, args.idle_exit), indent=2))  # noqa: T201
    return 0
