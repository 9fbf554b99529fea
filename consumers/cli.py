"""`python -m consumers RECIPIENT` (or `registry-agency RECIPIENT`): the
reference consumer of one agency, on the agency's own settings (AGENCY_*).
Prints what it did as JSON when it stops (SIGTERM, or `--idle-exit`)."""

from __future__ import annotations

import argparse
import json
import logging
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
        seen = stats.stored + stats.duplicates + stats.parked + stats.dropped
        if seen != state["seen"] or not stats.assigned:  # idle once assigned
            state.update(since=time.monotonic(), seen=seen)
        return seconds is not None and time.monotonic() - state["since"] > seconds

    return until


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
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        consumer = AgencyConsumer.from_settings(AgencySettings(), args.recipient)
    except ValueError as e:  # a setting missing or invalid, an unknown recipient
        print(f"registry-agency: refused: {e}", file=sys.stderr)  # noqa: T201
        return 2
    print(json.dumps(run(consumer, args.idle_exit), indent=2))  # noqa: T201
    return 0
