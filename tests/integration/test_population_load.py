"""Loading the population register (contract.md, reference data): idempotent,
the same line twice changes nothing, and a later line for the same BSN
replaces the earlier one, recorded as a change when it differs from the
register."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn, parse_persons, stream_persons
from registry.intake.reference_files import FileRefused
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


def count(rt: Runtime) -> int:
    with psycopg.connect(rt.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM population_persons").fetchone()
    assert row is not None
    return int(row[0])


def test_the_first_load_goes_straight_in_as_its_lines_are_read(
    runtime: Runtime,
) -> None:
    rt = runtime
    anna = {**JIP, "bsn": "800000481", "voornamen": "Anna"}
    counts = rt.load_population(stream_persons(lines(JIP, anna)), utc(2026, 7, 1))
    assert counts == {
        "persons": 2,
        "added": 2,
        "changed": 0,
        "unchanged": 0,
        "residences": 0,  # no student yet
    }
    found = rt.population.by_bsn([JIP["bsn"], "800000481"])
    assert {p.voornamen for p in found.values()} == {"Jip", "Anna"}
    again = rt.load_population(stream_persons(lines(JIP, anna)), utc(2026, 7, 2))
    assert again["unchanged"] == 2 and changes(rt) == []


def test_a_faulty_file_read_as_it_loads_leaves_the_register_as_it_was(
    runtime: Runtime,
) -> None:
    rt = runtime
    faulty = [*lines(JIP), '{"bsn": "800000482"}', *lines(MOVED)]
    with pytest.raises(FileRefused, match="line 2"):
        rt.load_population(stream_persons(faulty), utc(2026, 7, 1))
    assert count(rt) == 0  # the empty register's load, straight in: undone
    rt.load_population(stream_persons(lines(JIP)), utc(2026, 7, 1))
    with pytest.raises(FileRefused, match="line 2"):
        rt.load_population(stream_persons(faulty), utc(2026, 7, 2))
    assert count(rt) == 1 and changes(rt) == []
    assert rt.population.by_bsn([JIP["bsn"]])[JIP["bsn"]].gemeente == "GM0014"


def test_two_loads_at_once_give_what_one_after_the_other_gives(
    runtime: Runtime,
) -> None:
    """Loads wait for each other: the second, started while the first is
    still copying into the empty register, finds it loaded and records its
    difference as a change, instead of colliding with the first's rows."""
    rt, bsn = runtime, JIP["bsn"]
    copying = threading.Event()

    def slow(people: list[dict[str, Any]]) -> Iterator[PersonIn]:
        for person in stream_persons(lines(*people)):
            yield person
            copying.set()
            time.sleep(0.3)  # the first load's transaction stays open

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(rt.population.load, slow([JIP]), utc(2026, 7, 1))
        assert copying.wait(10)
        second = pool.submit(rt.population.load, slow([MOVED]), utc(2026, 7, 1))
        counts = [first.result(), second.result()]
    assert counts == [
        {"persons": 1, "added": 1, "changed": 0, "unchanged": 0},
        {"persons": 1, "added": 0, "changed": 1, "unchanged": 0},
    ]
    assert changes(rt) == [(bsn, "GM0014", "GM0363")]
    assert rt.population.by_bsn([bsn])[bsn].gemeente == "GM0363"
