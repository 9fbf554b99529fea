"""Topic administration: creating the contract's topics on a cluster, and the
embedded broker's copy of their schemas."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from registry.config import Settings
from registry.publishing.contract import (
    all_topics,
    dead_letter_topics,
    schema,
    schema_name,
)
from registry.publishing.relay import MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class TopicSpec:
    """How a topic is made: the embedded broker's defaults, or a cluster's from
    the settings (`TopicSpec.of`)."""

    partitions: int = 3
    replication_factor: int = 1
    min_insync_replicas: int = 1
    retention_ms: int = -1  # agency topics keep their history
    max_message_bytes: int = MAX_MESSAGE_BYTES

    @classmethod
    def of(cls, settings: Settings) -> TopicSpec:
        return cls(
            settings.kafka_topic_partitions,
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
            settings.kafka_retention_ms,
            settings.kafka_max_message_bytes,
        )

    def configs(self) -> dict[str, str]:
        """The topic-level configs, by Kafka's names."""
        return {
            "min.insync.replicas": str(self.min_insync_replicas),
            "retention.ms": str(self.retention_ms),
            "max.message.bytes": str(self.max_message_bytes),
        }

    def new_topic(self, name: str) -> NewTopic:
        return NewTopic(
            name, self.partitions, self.replication_factor, topic_configs=self.configs()
        )


def ensure_topics(
    bootstrap: str,
    topics: list[str],
    spec: TopicSpec = TopicSpec(),
    security: Mapping[str, Any] | None = None,
) -> int:
    """Create the missing topics as `spec` says; the number made. Existing topics
    are left as they are. `security`: the clients' settings
    (registry.publishing.security)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="registry-admin", **(security or {})
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for start in range(0, len(missing), 100):
            chunk = [spec.new_topic(t) for t in missing[start : start + 100]]
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(chunk)
        return len(missing)
    finally:
        admin.close()


def ensure_contract_topics(
    bootstrap: str,
    spec: TopicSpec = TopicSpec(),
    security: Mapping[str, Any] | None = None,
) -> int:
    """Every topic of the contract, the recipients' dead-letter topics included, so
    a consumer needs no right to create topics."""
    return ensure_topics(bootstrap, contract_topics(), spec, security)


def contract_topics() -> list[str]:
    """Every topic of the contract and every recipient's dead-letter topic."""
    return all_topics() + dead_letter_topics()


def write_broker_schemas(directory: Path, topics: list[str] | None = None) -> Path:
    """The topics' schemas in the embedded broker's layout (`<topic>.json`, the
    value's schema under `properties.value`), so the broker itself refuses a
    record that breaks its topic's schema."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in topics or all_topics():
        wrapper = {"type": "object", "properties": {"value": schema(schema_name(name))}}
        (directory / f"{name}.json").write_text(json.dumps(wrapper), encoding="utf-8")
    return directory
