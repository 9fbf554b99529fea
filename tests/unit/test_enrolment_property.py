"""Enrolment periods under any sequence of T/A/U/V: the aggregate agrees with a
simple model, a refused mutation changes nothing, and a replay of its events
rebuilds the same state."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.enrolment import Enrolment, PeriodTerms
from registry.domain.errors import DomainError
from tests.conftest import utc
from tests.factories import source, terms

START = date(2026, 8, 1)
steps = st.lists(
    st.tuples(st.sampled_from("TAUV"), st.integers(-10, 400), st.integers(1, 3)),
    max_size=15,
)


def replay(events: list[Any]) -> Enrolment:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    assert isinstance(aggregate, Enrolment)
    return aggregate


@given(steps)
def test_any_sequence_matches_the_model_and_replays(
    seq: list[tuple[str, int, int]],
) -> None:
    from uuid import uuid4

    at = utc(2026, 8, 1)
    e = Enrolment.register(uuid4(), "01OE", START, terms(), source(), at)
    events = list(e.collect_events())
    model: dict[str, Any] = {"alive": True, "terms": terms()}
    for n, (mutatie, offset, leerjaar) in enumerate(seq, start=2):
        end = START + timedelta(days=offset)
        new = terms(leerjaar=leerjaar, einddatum=end if offset % 2 else None)
        before = (e.version, e.deleted, e.terms)
        expect_ok = _model_accepts(model, mutatie, end, new)
        try:
            _apply(e, mutatie, end, new, n, at)
        except DomainError:
            assert not expect_ok
            assert (e.version, e.deleted, e.terms) == before
            continue
        assert expect_ok
        _model_apply(model, mutatie, end, new)
        assert e.deleted == (not model["alive"])
        if model["alive"]:
            assert e.terms == model["terms"]
        events.extend(e.collect_events())
    assert replay(events) == e


def _apply(
    e: Enrolment, mutatie: str, end: date, new: PeriodTerms, n: int, at: Any
) -> None:
    src = source(melding=n)
    {
        "T": lambda: e.reregister(new, src, at),
        "A": lambda: e.amend(new, src, at),
        "U": lambda: e.end(end, src, at),
        "V": lambda: e.delete(src, at),
    }[mutatie]()


def _model_accepts(
    model: dict[str, Any], mutatie: str, end: date, new: PeriodTerms
) -> bool:
    if mutatie == "T":
        return not model["alive"] and (new.einddatum is None or new.einddatum >= START)
    if not model["alive"]:
        return False
    if mutatie == "A":
        return new.einddatum is None or new.einddatum >= START
    if mutatie == "U":
        return end >= START
    return True


def _model_apply(
    model: dict[str, Any], mutatie: str, end: date, new: PeriodTerms
) -> None:
    if mutatie in "TA":
        model.update(alive=True, terms=new)
    elif mutatie == "U":
        old = model["terms"]
        model["terms"] = PeriodTerms(
            old.vestiging, old.elementcode, old.leerjaar, old.jaren_pro, end
        )
    else:
        model["alive"] = False


@pytest.mark.parametrize("offset", [-1, 0])
def test_end_on_the_start_date_is_allowed_but_not_before(offset: int) -> None:
    from uuid import uuid4

    e = Enrolment.register(uuid4(), "01OE", START, terms(), source(), utc(2026, 8, 1))
    end = START + timedelta(days=offset)
    if offset < 0:
        with pytest.raises(DomainError):
            e.end(end, source(), utc(2026, 8, 1))
    else:
        e.end(end, source(), utc(2026, 8, 1))
        assert e.einddatum == START
