"""Issued foto hashes are taken over canonical JSON; the registry writes it with
orjson where that gives the same text (registry/infrastructure/canonical.py).
Whatever the value, the text must be the standard library's, or the hashes
schools and DUO check would change with the writer."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from registry.domain import foto_proof
from registry.domain.foto import canonical_json
from registry.infrastructure.canonical import canonical_text
from tests.unit.test_foto_proof import ANNA, KEES, PIET, doc, entry


class Soort(enum.StrEnum):
    VOORLOPIG = "voorlopig"


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too: orjson refuses those
    | st.floats()  # written differently by the two, NaN and Infinity too
    | st.text()  # control characters, DEL, quotes, backslashes, non-ASCII
    | st.text(st.characters(codec="utf-8", categories=["Cc"]))
    | st.just(Soort.VOORLOPIG)  # a subclass of str
    | st.just("\ud800"),  # a lone surrogate: neither writes it as UTF-8
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, min_size=1, max_size=2)
    ),
    max_leaves=20,
)


def outcome(write: Any, value: Any) -> tuple[str, Any]:
    try:
        text = write(value)
        text.encode()  # what a hash is taken over
    except Exception as e:  # the same refusal, whichever writes
        return "refused", type(e)
    return "text", text


@settings(max_examples=800, deadline=None)
@given(values)
@example({"b": [None, True], "a": "é", "c": "\x00\x1f\x7f\u2028\"\\/"})
@example({"z": 2**64, "a": 1.0})
@example({1: "one", "1": "other"})
def test_the_text_is_the_standard_librarys_whatever_the_value(value: Any) -> None:
    assert outcome(canonical_text, value) == outcome(canonical_json, value)


def test_a_fotos_hash_is_the_same_whichever_writes_it() -> None:
    d = doc(entry(ANNA), entry(PIET, 2), entry(KEES))
    proof = foto_proof.new_proof(d)
    expected = foto_proof.hash_of(d, proof)
    assert foto_proof.hash_of(d, proof, canonical_text) == expected
    assert foto_proof.verify(d, proof, expected, d, canonical_text).ok
    redacted, kept, _ = foto_proof.redact(d, proof, lambda who: True)
    assert foto_proof.hash_of(redacted, kept, canonical_text) == expected
    checked = foto_proof.verify(redacted, kept, expected, d, canonical_text)
    # Derived again with the numbers still there: told apart, as before.
    assert (checked.hash_explained, checked.same_content) == (True, False)
    assert not foto_proof.verify(d, proof, "0" * 64, d, canonical_text).ok


@pytest.mark.parametrize("value", [{"leerjaar": 1e16}, [1e-7], 5e-324])
def test_floats_which_orjson_writes_its_own_way_go_to_the_standard_library(
    value: Any,
) -> None:
    assert canonical_text(value) == canonical_json(value)
