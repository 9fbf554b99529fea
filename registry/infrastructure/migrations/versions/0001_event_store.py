"""The event store as the eventsourcing library makes it (the events table, its
composite type and insert function), with what the registry's recorder adds to
the library's statements: `person_keys`, `student_numbers`,
`forgotten_numbers`, and the clock table and its guard function.

The library's own `create_table` makes them, on a connection of its own: its
statements are idempotent (IF NOT EXISTS, OR REPLACE, a type that exists is
skipped), so a run cut short before this migration is recorded is simply made
again next time. The library is pinned (pyproject.toml); a release that
changed these statements would need a migration of its own."""

from __future__ import annotations

from typing import Any

import psycopg

from registry.config import Settings
from registry.infrastructure.event_store import RegistryRecorder, open_recorder


def apply(conn: psycopg.Connection[Any], url: str, settings: Settings) -> None:
    recorder, factory = open_recorder(url, settings)
    try:
        assert isinstance(recorder, RegistryRecorder)  # event_store_env names it
        recorder.create_table()
    finally:
        factory.close()
