"""Kafka security settings (issue 17, item 2, in part): TLS and SASL from the
registry's settings reach every Kafka client it makes, alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import registry.bootstrap
from registry.bootstrap import Runtime
from registry.config import Settings
from registry.publishing.security import client_security

SECURE = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "registry-relay",
    "kafka_sasl_password": SecretStr("s3cret-words"),
    "kafka_ssl_cafile": Path("/etc/registry/kafka-ca.pem"),
}
EXPECTED = {
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_plain_username": "registry-relay",
    "sasl_plain_password": "s3cret-words",
    "ssl_cafile": "/etc/registry/kafka-ca.pem",
}


def test_plaintext_unless_configured() -> None:
    assert client_security(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert client_security(Settings(**SECURE)) == EXPECTED  # type: ignore[arg-type]


def test_the_relay_producer_gets_them(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, Any]] = []

    def fake(bootstrap: str, **kwargs: Any) -> object:
        made.append(kwargs)
        return object()

    monkeypatch.setattr(registry.bootstrap, "producer", fake)
    for name, value in SECURE.items():
        monkeypatch.setattr(runtime.settings, name, value)
    publication = runtime.publication("127.0.0.1:9093")
    publication.new_producer()  # the one a failed round would make again
    # and the largest request the topics take (REGISTRY_KAFKA_MAX_MESSAGE_BYTES)
    sized = EXPECTED | {"max_request_size": runtime.settings.kafka_max_message_bytes}
    assert made == [sized, sized]
