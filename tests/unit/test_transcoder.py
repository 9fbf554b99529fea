"""The log's codec (orjson) writes the bytes the library's JSONTranscoder writes
and reads what it reads: rows stored before the change load now, and rows
stored now load with the library's transcoder (a rollback, another reader)."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.infrastructure.event_store import make_transcoder, register_transcodings
from registry.infrastructure.sealing import Sealed
from registry.infrastructure.transcoder import FastJSONTranscoder
from tests.support.golden_log import encode_state, read_lines


def library() -> JSONTranscoder:
    """The transcoder the registry stored its log with before (and may again)."""
    transcoder = JSONTranscoder()
    register_transcodings(transcoder)
    return transcoder


OLD, NEW = library(), make_transcoder()


def test_the_registry_writes_with_the_fast_codec() -> None:
    assert isinstance(NEW, FastJSONTranscoder)


def test_every_golden_row_reads_the_same_and_is_written_back_byte_for_byte() -> None:
    for line in read_lines():
        stored = encode_state(line["state"])
        decoded = NEW.decode(stored)
        assert decoded == OLD.decode(stored), line["topic"]
        assert NEW.encode(decoded) == OLD.encode(decoded) == stored, line["topic"]


scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too: the library writes those
    | st.floats()  # NaN and infinities too
    | st.text()
    | st.uuids()
    | st.dates()
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))
    | st.decimals(allow_nan=False)
    | st.binary(max_size=40).map(Sealed)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, max_size=2)  # the library's str keys
    ),
    max_leaves=16,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN included (both sides decode the same bytes)."""
    return json.dumps(a, default=repr, sort_keys=False) == json.dumps(
        b, default=repr, sort_keys=False
    )


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_any_state_encodes_to_the_librarys_bytes_and_decodes_alike(
    state: dict[str, Any],
) -> None:
    try:
        expected = OLD.encode(state)
    except (UnicodeEncodeError, ValueError):  # e.g. a lone surrogate
        with pytest.raises((UnicodeEncodeError, ValueError)):
            NEW.encode(state)
        return
    assert NEW.encode(state) == expected
    assert _same(NEW.decode(expected), OLD.decode(expected))


def test_texts_orjson_refuses_are_read_as_the_library_reads_them() -> None:
    for text in (b'{"a":NaN}', b'{"a":"\\ud800"}', b'{"n":123456789012345678901234}'):
        assert _same(NEW.decode(text), OLD.decode(text))


def test_what_the_library_refuses_is_refused_alike() -> None:
    class Unknown:
        pass

    for codec in (OLD, NEW):
        with pytest.raises(TranscodingNotRegisteredError):
            codec.encode({"x": Unknown()})
        with pytest.raises(TranscodingNotRegisteredError):
            codec.decode(b'{"x":{"_type_":"nobody","_data_":1}}')


def test_an_event_state_round_trips_with_its_types() -> None:
    state = {
        "timestamp": datetime(2026, 8, 20, 6, tzinfo=UTC),
        "student_id": UUID("6f1c2a3e-5b1d-4c51-9a0e-b40b0e5a7d01"),
        "ingangsdatum": date(2026, 8, 1),
        "bedrag": Decimal("12.50"),
        "terms": {"vestiging": "00", "leerjaar": 1, "einddatum": None},
    }
    stored = NEW.encode(state)
    assert stored == OLD.encode(state)
    assert NEW.decode(stored) == OLD.decode(stored) == state


def test_equal_instants_are_written_as_given() -> None:
    """The codec keeps the written form of repeated times: an instant given in
    another zone, or on the other side of a fold, is still written as given."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    times = [
        datetime(2026, 8, 20, 6, tzinfo=UTC),
        datetime(2026, 8, 20, 8, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 8, 20, 8, tzinfo=amsterdam),
        datetime(2026, 10, 25, 2, 30, tzinfo=amsterdam),
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=amsterdam),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]
    for _ in range(2):  # the second time from what was kept
        for at in times:
            assert NEW.encode({"at": at}) == OLD.encode({"at": at})


def test_a_written_state_holds_no_more_memory_than_its_bytes() -> None:
    """A save holds every state it writes until it commits: 100,000 records
    of orjson's 4 KiB buffers were most of a gigabyte."""
    state = {"timestamp": datetime(2026, 8, 20, tzinfo=UTC), "brin": "01OE" * 50}
    tracemalloc.start()
    try:
        kept = [NEW.encode(state) for _ in range(1000)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2 * sum(len(k) for k in kept) + 100_000
