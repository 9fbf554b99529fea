"""The Kafka clients' security settings, from the registry's settings: one
place, so the relay's producer, the topic administration and the reference
consumers connect alike (TLS with a CA file, SASL PLAIN or SCRAM)."""

from __future__ import annotations

from typing import Any

from registry.config import Settings


def client_security(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments; none beyond the protocol when unset."""
    out: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_sasl_mechanism is not None:
        out["sasl_mechanism"] = settings.kafka_sasl_mechanism
        out["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        out["sasl_plain_password"] = password.get_secret_value() if password else None
    if settings.kafka_ssl_cafile is not None:
        out["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    return out
