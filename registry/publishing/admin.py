"""Topic administration: creating the contract's topics on a cluster, and the
embedded broker's copy of their schemas."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from registry.publishing.contract import (
    all_topics,
    dead_letter_topics,
    schema,
    schema_name,
)

PARTITIONS = 3


def ensure_topics(
    bootstrap: str,
    topics: list[str],
    partitions: int = PARTITIONS,
    security: Mapping[str, Any] | None = None,
) -> int:
    """Create the missing topics with a fixed partition count; the number made.
    `security`: the clients' settings (registry.publishing.security)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="registry-admin", **(security or {})
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for start in range(0, len(missing), 100):
            chunk = [NewTopic(t, partitions, 1) for t in missing[start : start + 100]]
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(chunk)
        return len(missing)
    finally:
        admin.close()


def ensure_contract_topics(
    bootstrap: str, security: Mapping[str, Any] | None = None
) -> int:
    """Every topic of the contract, the recipients' dead-letter topics included, so
    a consumer needs no right to create topics."""
    return ensure_topics(
        bootstrap, all_topics() + dead_letter_topics(), security=security
    )


def write_broker_schemas(directory: Path, topics: list[str] | None = None) -> Path:
    """The topics' schemas in the embedded broker's layout (`<topic>.json`, the
    value's schema under `properties.value`), so the broker itself refuses a
    record that breaks its topic's schema."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in topics or all_topics():
        wrapper = {"type": "object", "properties": {"value": schema(schema_name(name))}}
        (directory / f"{name}.json").write_text(json.dumps(wrapper), encoding="utf-8")
    return directory
