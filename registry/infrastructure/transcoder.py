"""The log's JSON codec: the eventsourcing library's JSONTranscoder format, byte
for byte, written and read with orjson.

A stored state is a JSON object in which a value of a registered type is
`{"_type_": name, "_data_": ...}` (the library's format). orjson would write a
UUID or a date its own way, so a walk first turns every value of a registered
type into that object; anything the walk is not certain of (a float, a subclass
of str or int, a key that is not a string, an integer past 64 bits) goes to the
library's encoder instead, so the stored bytes are those the library writes.
Reading mirrors it: orjson parses, a walk turns the objects back bottom-up as
the library's object hook does, and a text orjson refuses (NaN, a lone
surrogate) or holding a float is read by the library's decoder. Old rows read
the same, and rows written now read with the library's transcoder.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

# Written by orjson exactly as by the library (exact types: a subclass is not).
_JSON = frozenset({str, int, bool, type(None)})
_MEMO_SIZE = 4096  # dates and UTC times whose written form is kept


class _Unsure(Exception):
    """A value the fast path leaves to the library's codec."""


class FastJSONTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._memo: dict[Any, dict[str, Any]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._memo.clear()

    def encode(self, obj: Any) -> bytes:
        try:
            # A copy: orjson's bytes keep the buffer it grew (4 KiB or more for
            # a state of a few hundred bytes), and a save holds every state.
            return memoryview(orjson.dumps(self._plain(obj))).tobytes()
        except (_Unsure, TypeError, RecursionError):
            # The library decides (and raises what it raises, e.g. for a
            # type without a transcoding or a circular reference).
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            return self._restore(orjson.loads(data))
        except (_Unsure, orjson.JSONDecodeError):
            return super().decode(data)

    def _plain(self, o: Any) -> Any:
        """`o` with every value of a registered type as the library writes it;
        a dict or list that holds none is returned as it is, not copied."""
        t = type(o)
        if t in _JSON:
            return o
        if t is dict:
            return self._plain_dict(o)
        if t is list or t is tuple:
            return [self._plain(v) for v in o]
        if t is date or (t is datetime and o.tzinfo is UTC):
            # A save's events share their timestamp, and dates repeat. Kept by
            # value: equal dates, or equal instants in UTC, are written alike
            # (not so equal instants in other zones, nor a fold's two sides).
            wrapped = self._memo.get(o)
            if wrapped is None:
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.clear()
                wrapped = self._memo[o] = self._wrap(o, t)
            return wrapped
        return self._wrap(o, t)

    def _wrap(self, o: Any, t: type) -> dict[str, Any]:
        transcoding = self.types.get(t)
        if transcoding is None:
            raise _Unsure
        data = transcoding.encode(o)
        return {
            "_type_": transcoding.name,
            "_data_": data if type(data) in _JSON else self._plain(data),
        }

    def _plain_dict(self, d: dict[Any, Any]) -> dict[str, Any]:
        out = d
        for k, v in d.items():
            if type(k) is not str:
                raise _Unsure
            t = type(v)
            if t in _JSON:
                continue
            new = self._plain_dict(v) if t is dict else self._plain(v)
            if new is not v:
                if out is d:
                    out = dict(d)
                out[k] = new
        return out

    def _restore(self, o: Any) -> Any:
        t = type(o)
        if t is dict:
            for k, v in o.items():
                tv = type(v)
                if tv is dict or tv is list:
                    o[k] = self._restore(v)
                elif tv is float:
                    raise _Unsure
            if len(o) == 2 and "_type_" in o and "_data_" in o:
                return self._decode_obj(o)
            return o
        if t is list:
            for i, v in enumerate(o):
                tv = type(v)
                if tv is dict or tv is list:
                    o[i] = self._restore(v)
                elif tv is float:
                    raise _Unsure
            return o
        if t is float:
            raise _Unsure
        return o
