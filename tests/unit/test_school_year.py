"""The registration lifecycle: legal steps advance it, illegal ones change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.errors import IllegalTransition
from registry.domain.school_year import SchoolYear, Stage
from tests.conftest import utc

FOTO = {"hash": "abc"}
STEPS: dict[str, Callable[[SchoolYear, datetime], None]] = {
    "declare": lambda y, at: y.declare_complete(at),
    "voorlopig": lambda y, at: y.record_provisional_snapshot(FOTO, at),
    "stop": lambda y, at: y.stop_mutations(at, on_request=True),
    "default_stop": lambda y, at: y.stop_mutations(at, on_request=False),
    "actueel": lambda y, at: y.record_current_snapshot(FOTO, at),
    "assurance": lambda y, at: y.report_assurance([3, 1], [], at),
    "definitief": lambda y, at: y.record_final_snapshot(FOTO, at),
    "close": lambda y, at: y.close(at),
}
# The model: from which stages each step is allowed, and where it leads.
MODEL = {
    "declare": ({Stage.OPEN}, Stage.COMPLETENESS_DECLARED),
    "voorlopig": (
        {Stage.COMPLETENESS_DECLARED, Stage.PROVISIONAL_SNAPSHOT},
        Stage.PROVISIONAL_SNAPSHOT,
    ),
    "stop": ({Stage.PROVISIONAL_SNAPSHOT}, Stage.MUTATION_STOPPED),
    "default_stop": (
        {Stage.OPEN, Stage.COMPLETENESS_DECLARED, Stage.PROVISIONAL_SNAPSHOT},
        Stage.MUTATION_STOPPED,
    ),
    "actueel": (
        {Stage.MUTATION_STOPPED, Stage.CURRENT_SNAPSHOT},
        Stage.CURRENT_SNAPSHOT,
    ),
    "assurance": ({Stage.CURRENT_SNAPSHOT}, Stage.ASSURANCE_REPORTED),
    "definitief": (
        {Stage.ASSURANCE_REPORTED, Stage.FINAL_SNAPSHOT},
        Stage.FINAL_SNAPSHOT,
    ),
    "close": ({Stage.FINAL_SNAPSHOT}, Stage.CLOSED),
}


def new_year() -> SchoolYear:
    return SchoolYear.open("01OE", "2026-2027", utc(2026, 8, 1))


def test_the_whole_cycle() -> None:
    y = new_year()
    y.declare_complete(utc(2026, 10, 10))
    assert y.declared_on is not None
    y.record_provisional_snapshot(FOTO, utc(2026, 11, 15))
    y.record_provisional_snapshot(FOTO, utc(2026, 11, 29))
    y.stop_mutations(utc(2027, 3, 1), on_request=True)
    assert y.mutation_stop_in_effect(utc(2027, 3, 1).date())
    y.record_current_snapshot(FOTO, utc(2027, 3, 1))
    y.report_assurance(
        [4, 2, 4],
        [{"student_id": uuid4(), "reden": "verzuim"}],
        utc(2027, 6, 15),
    )
    assert y.assured and y.assurance_batches == [2, 4]
    y.record_final_snapshot(FOTO, utc(2027, 7, 21))
    y.close(utc(2027, 8, 1))
    assert y.stage is Stage.CLOSED and len(y.fotos["voorlopig"]) == 2


def test_the_default_stop_holds_from_1_june_without_an_event() -> None:
    y = new_year()
    assert not y.mutation_stop_in_effect(utc(2027, 5, 31).date())
    assert y.mutation_stop_in_effect(utc(2027, 6, 1).date())
    with pytest.raises(IllegalTransition, match="2027-06-01"):
        y.stop_mutations(utc(2027, 5, 1), on_request=False)


def test_a_stop_on_request_before_the_voorlopige_foto_is_refused() -> None:
    y = new_year()
    y.declare_complete(utc(2026, 10, 10))
    with pytest.raises(IllegalTransition, match="provisional_snapshot"):
        y.stop_mutations(utc(2026, 10, 11), on_request=True)


def test_a_late_declaration_is_marked_late() -> None:
    y = new_year()
    y.declare_complete(utc(2026, 10, 20))
    assert y.collect_events()[-1].late is True  # type: ignore[attr-defined]


@given(st.lists(st.sampled_from(sorted(STEPS)), max_size=12))
def test_steps_follow_the_model_and_refusals_change_nothing(steps: list[str]) -> None:
    y = new_year()
    at = utc(2027, 6, 2)  # after the default stop date, so only the stage decides
    for step in steps:
        allowed, target = MODEL[step]
        before = (y.stage, y.version)
        if step == "declare" and y.stage is Stage.OPEN:
            allowed = set()  # a declaration after 1 June is refused
        if y.stage in allowed:
            STEPS[step](y, at)
            assert y.stage is target
        else:
            with pytest.raises(IllegalTransition):
                STEPS[step](y, at)
            assert (y.stage, y.version) == before
