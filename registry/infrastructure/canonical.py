"""Canonical JSON (`registry.domain.foto.canonical_json`: sorted keys, no
spaces, not ASCII-escaped) written by orjson, several times faster on a foto's
thousands of small entries.

orjson writes the same text for a value made only of dicts with string keys,
lists, strings, integers, booleans and None: it sorts keys by code point as
the standard library does and escapes the same characters the same way. Any
other value (a float, which the two write differently; a tuple, an enum or any
subclass; a key that is not a string), and whatever orjson refuses (a lone
surrogate, an integer past 64 bits), is written by the standard library, so
the text, and every hash taken of it, is the standard library's.
"""

from __future__ import annotations

import orjson

from registry.domain.foto import canonical_json

_PLAIN = frozenset({str, int, bool, type(None)})


def canonical_text(value: object) -> str:
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass
    return canonical_json(value)


def _plain(value: object) -> bool:
    """Only exact types orjson writes as the standard library does."""
    t = type(value)
    if t in _PLAIN:
        return True
    if t is dict:
        assert isinstance(value, dict)
        for k, v in value.items():
            if type(k) is not str or (type(v) not in _PLAIN and not _plain(v)):
                return False
        return True
    if t is list:
        assert isinstance(value, list)
        return all(type(v) in _PLAIN or _plain(v) for v in value)
    return False
