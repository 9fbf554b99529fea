"""The golden log's line format, shared by the script that appends to it and its test.

A line is one stored event: its topic, originator id and version, and its state as
a JSON object (not a string) so that a diff of the file is readable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from registry.application.registry import Registry

GOLDEN_LOG = Path(__file__).resolve().parents[1] / "data" / "golden_events.jsonl"


def registry_mapper() -> Mapper[UUID]:
    """The mapper the registry stores events with, with its own transcodings; the
    in-memory persistence module only spares the test a database."""
    return Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def encode_state(state: dict[str, Any]) -> bytes:
    # JSONTranscoder's encoder settings: a decoded state encodes to the same bytes.
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode("utf8")


def to_line(stored: StoredEvent) -> dict[str, Any]:
    state = json.loads(stored.state)
    if encode_state(state) != stored.state:
        raise ValueError(
            f"the state of {stored.topic} does not re-encode to the stored bytes"
        )
    return {
        "topic": stored.topic,
        "originator_id": str(stored.originator_id),
        "originator_version": stored.originator_version,
        "state": state,
    }


def to_stored(line: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        originator_id=UUID(line["originator_id"]),
        originator_version=line["originator_version"],
        topic=line["topic"],
        state=encode_state(line["state"]),
    )


def format_line(line: dict[str, Any]) -> str:
    # Key order is kept (never sort_keys): it is part of the stored bytes.
    return json.dumps(line, ensure_ascii=False) + "\n"


def read_lines(path: Path = GOLDEN_LOG) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(text) for text in f if text.strip()]
