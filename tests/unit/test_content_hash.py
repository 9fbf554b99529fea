"""A batch's content hash is what tells a re-delivery from a new delivery under
the same key, so it must be taken of the same bytes as ever, whichever encoder
writes them (registry/intake/wire.py, `canonical_json`)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.intake.wire import BatchRefused, canonical_json, parse_batch

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    # NaN and Infinity are not JSON: parse_batch refuses them before any hash
    # (test_hostile_requests), so no delivered document holds one.
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # control characters, DEL, non-ASCII, lone surrogates…
    | st.text(st.characters(max_codepoint=127)),  # the fast path's
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=20,
)


def as_ever(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def floats_in(text: str) -> bool:
    seen = []
    json.loads(text, parse_float=lambda t: seen.append(t) or float(t))
    return bool(seen)


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(st.text(st.characters(max_codepoint=127)), json_values, max_size=6),
    st.booleans(),
)
def test_the_canonical_form_is_the_one_hashed_before(
    document: dict[str, Any], ascii_escaped: bool
) -> None:
    text = json.dumps(document, ensure_ascii=ascii_escaped)
    data = json.loads(text)
    floats = floats_in(text)
    try:
        raw = text.encode()
    except UnicodeEncodeError:  # a lone surrogate, as delivered in a str
        assert canonical_json(text, data, floats=floats) == as_ever(data)
        return
    assert canonical_json(raw, data, floats=floats) == as_ever(data)
    assert canonical_json(text, data, floats=floats) == as_ever(data)


def test_infinity_is_refused_before_it_could_be_hashed() -> None:
    with pytest.raises(BatchRefused):
        parse_batch(b'{"format": "bron-vo-batch/1", "x": Infinity}', date(2026, 9, 1))


def test_a_plain_batch_takes_the_fast_path_and_hashes_the_same() -> None:
    batch = {"brin": "01OE", "meldingen": [{"z": 1, "a": [True, None, "x\\ny"]}]}
    raw = json.dumps(batch).encode()
    assert canonical_json(raw, json.loads(raw), floats=False) == as_ever(batch)
