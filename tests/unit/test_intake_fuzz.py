"""Fuzzing the batch parser and record contents: any input ends in a clean refusal
(BatchRefused with problems) or a parsed batch, never another exception; and every
parsed record gets only known signal codes from the content checks."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.domain.signals import CODES
from registry.intake.checks import static_signals
from registry.intake.wire import BatchRefused, parse_batch

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
maybe = lambda s: st.none() | s  # noqa: E731
digits = st.text("0123456789", min_size=0, max_size=10)
dates = st.dates().map(str) | st.text(max_size=10)
leerling = st.fixed_dictionaries(
    {},
    optional={
        "bsn": maybe(digits | st.integers()),
        "onderwijsnummer": maybe(digits),
        "geboortedatum": maybe(dates),
        "geslacht": maybe(st.sampled_from(["M", "V", "X"])),
        "postcode": maybe(st.text("0123456789ABSDZ ", max_size=7)),
        "landcode": maybe(digits),
        "uitgebreid": maybe(
            st.dictionaries(
                st.sampled_from(
                    [
                        "achternaam",
                        "voornamen",
                        "straatnaam",
                        "huisnummer",
                        "plaatsnaam",
                        "buitenlands_adres",
                    ]
                ),
                json_values,
                max_size=6,
            )
        ),
    },
)
inschrijving = st.fixed_dictionaries(
    {},
    optional={
        "vestiging": maybe(st.text("0123456789", max_size=3)),
        "ingangsdatum": maybe(dates),
        "einddatum": maybe(dates),
        "elementcode": maybe(st.sampled_from(["0300", "0090", "9999", "", "03"])),
        "leerjaar": maybe(st.integers(-2, 9) | st.text(max_size=2)),
        "jaren_pro": maybe(st.integers(0, 9)),
    },
)
record = st.fixed_dictionaries(
    {
        "meldingnummer": st.integers(0, 5) | st.text(max_size=2),
        "soort": st.sampled_from(["I", "W", "Q"]),
        "mutatie": st.sampled_from(["T", "A", "U", "V", "Z"]),
        "leerling": leerling,
    },
    optional={"inschrijving": maybe(inschrijving), "wijziging": maybe(json_values)},
)
batch = st.fixed_dictionaries(
    {
        "format": st.sampled_from(["bron-vo-batch/1", "bron-vo-batch/2"]),
        "brin": st.sampled_from(["01OE", "1OE", "01oe"]),
        "aanleverpunt": st.integers(-1, 100),
        "batchnummer": st.integers(0, 1000),
        "schooljaar": st.sampled_from(["2026-2027", "2026-2028", "x"]),
        "soort": st.sampled_from(["INSCHRIJVING", "ACCOUNTANTSMUTATIE", "EXAMEN"]),
        "verantwoordelijke": st.sampled_from(["INSTELLING", "ACCOUNTANT"]),
        "meldingen": st.lists(record, max_size=5),
    }
)


def check(raw: str | bytes) -> None:
    try:
        parsed, digest = parse_batch(raw)
    except BatchRefused as e:
        assert e.problems and all(
            {"path", "rule", "value"} <= set(p) for p in e.problems
        )
        return
    assert len(digest) == 64
    for r in parsed.meldingen:
        assert all(s.code in CODES for s in static_signals(r))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(batch)
def test_structured_batches_end_cleanly(data: dict[str, Any]) -> None:
    check(json.dumps(data))


@settings(max_examples=200)
@given(json_values)
def test_any_json_ends_cleanly(data: Any) -> None:
    check(json.dumps(data))


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_any_bytes_end_cleanly(data: bytes) -> None:
    check(data)
