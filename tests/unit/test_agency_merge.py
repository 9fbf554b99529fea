"""The agency kit folds a run of period upserts as one statement of merged
rows (consumers/fold.py): applied once, they must leave what the upserts
leave applied one by one, whatever periods, numbers and stored rows meet."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from consumers.fold import merged

Row = tuple[Any, ...]
DAYS = {"2020-08-01": date(2020, 8, 1), "20200801": date(2020, 8, 1)}


def upsert(held: dict[tuple[Any, ...], Row], row: Row) -> None:
    """What _UPSERT does to a stored row: its values, but a number left out
    keeps the stored one."""
    key = (row[0], row[1], DAYS.get(row[2], row[2]))
    old = held.get(key)
    if old is not None:
        bsn = row[7] if row[7] is not None else old[7]
        onr = row[8] if row[8] is not None else old[8]
        row = (*row[:7], bsn, onr, row[9])
    held[key] = (*row[:2], DAYS.get(row[2], row[2]), *row[3:])


numbers = st.sampled_from([None, "800000481", "101234567"])
rows = st.tuples(
    st.sampled_from(["a", "b"]),  # persoon
    st.sampled_from(["01OE", "02OE"]),
    st.sampled_from(["2020-08-01", "20200801", "2021-08-01"]),
    st.sampled_from(["00", "01"]),
    st.just("0300"),
    st.integers(1, 4),
    st.sampled_from([None, "2021-07-31"]),
    numbers,
    numbers,
    st.uuids().map(str),
)


@given(stored=st.lists(rows, max_size=4), run=st.lists(rows, min_size=1, max_size=8))
def test_merged_rows_leave_what_the_upserts_leave_in_turn(
    stored: list[Row], run: list[Row]
) -> None:
    one_by_one: dict[tuple[Any, ...], Row] = {}
    for row in stored + run:
        upsert(one_by_one, row)
    at_once: dict[tuple[Any, ...], Row] = {}
    for row in stored:
        upsert(at_once, row)
    once = merged(run)
    keys = [(r[0], r[1], DAYS.get(r[2], r[2])) for r in once]
    assert len(keys) == len(set(keys))  # one statement updates a row once
    for row in once:
        upsert(at_once, row)
    assert at_once == one_by_one


def test_a_later_upsert_that_leaves_a_number_out_keeps_the_earlier_one() -> None:
    first = ("a", "01OE", "2020-08-01", "00", "0300", 1, None, "800000481", None, "m1")
    later = ("a", "01OE", "20200801", "01", "0300", 2, None, None, "101234567", "m2")
    assert merged([first, later]) == [
        ("a", "01OE", "20200801", "01", "0300", 2, None, "800000481", "101234567", "m2")
    ]
