"""Loading the population register (contract.md, reference data): idempotent,
the same line twice changes nothing, and a later line for the same BSN
replaces the earlier one, recorded as a change when it differs from the
register."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from registry.bootstrap import Runtime
from registry.intake.population import parse_persons
from tests.conftest import utc
from tests.intake_helpers import JIP

MOVED = {**JIP, "postcode": "1011AB", "gemeente": "GM0363"}


def lines(*people: dict[str, Any]) -> list[str]:
    return [json.dumps(p) for p in people]


def changes(rt: Runtime) -> list[tuple[str, str | None, str | None]]:
    with psycopg.connect(rt.database_url) as conn:
        return conn.execute(
            "SELECT bsn, old->>'gemeente', new->>'gemeente' FROM population_changes "
            "ORDER BY id"
        ).fetchall()


def test_a_later_line_wins_and_the_same_file_again_changes_nothing(
    runtime: Runtime,
) -> None:
    rt, bsn = runtime, JIP["bsn"]
    first = parse_persons(lines(JIP, MOVED))  # Jip moved, later in the file
    counts = rt.population.load(first, utc(2026, 7, 1))
    assert counts == {"persons": 1, "added": 1, "changed": 0, "unchanged": 0}
    assert rt.population.by_bsn([bsn])[bsn].gemeente == "GM0363"
    assert changes(rt) == []  # within one file: no change of the register's
    again = rt.population.load(first, utc(2026, 7, 2))
    assert again == {"persons": 1, "added": 0, "changed": 0, "unchanged": 1}
    back = rt.population.load(parse_persons(lines(JIP)), utc(2026, 7, 3))
    assert back == {"persons": 1, "added": 0, "changed": 1, "unchanged": 0}
    assert changes(rt) == [(bsn, "GM0363", "GM0014")]
    assert rt.population.by_bsn([bsn])[bsn].gemeente == "GM0014"
