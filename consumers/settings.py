"""The agency's settings, from the environment (prefix AGENCY_): the kit's own,
apart from the registry's. The Kafka security settings carry the names of the
registry's (REGISTRY_KAFKA_* there, AGENCY_KAFKA_* here) and mean the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

FETCH_WAIT_MS = 50  # AgencySettings.fetch_wait_ms by default
FETCH_MIN_BYTES = 1  # AgencySettings.fetch_min_bytes by default: answer at once


class AgencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCY_", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="the agency's PostgreSQL (a libpq URL or conninfo)"
    )
    kafka_bootstrap: str | None = Field(
        default=None, description="host:port[,host:port...] of the registry's brokers"
    )
    recipient: str | None = Field(
        default=None, description="cbs, inspectie, svb or gmNNNN (or the argument)"
    )
    group: str | None = Field(
        default=None, description="the consumer group; agency-<recipient> when unset"
    )
    kafka_security_protocol: Literal[
        "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"
    ] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = (
        None
    )
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    # Where to begin when the group has no committed offset yet.
    offset_reset: Literal["earliest", "latest"] = "earliest"
    # Apache Kafka's floor for the session timeout is 6 s by default.
    session_timeout_ms: int = Field(default=6_000, ge=1000)
    heartbeat_interval_ms: int = Field(default=2_000, ge=100)
    # The longest a fetch waits at the broker for records. Apache Kafka answers
    # as soon as one arrives; a broker that does not (the embedded Tansu) keeps
    # each record waiting up to this long, so it bounds the delivery latency.
    fetch_wait_ms: int = Field(default=FETCH_WAIT_MS, ge=1, le=60_000)
    # How much a fetch asks the broker to gather before it answers (at most
    # fetch_wait_ms later). 1: each message as soon as it is there. An agency
    # that only needs to keep up can ask for more: a consumer that keeps up
    # then polls, stores and commits in larger batches, at a fraction of the
    # CPU per message for it and for the broker (docs/agency-kit.md).
    fetch_min_bytes: int = Field(default=FETCH_MIN_BYTES, ge=1, le=50 * 1024 * 1024)
    # How often a missing topic is looked for again.
    topic_wait_seconds: float = Field(default=30.0, gt=0)
    # Topic schemas from a directory (e.g. fetched from GET /v1/schemas)
    # instead of the installed registry package's.
    schema_dir: Path | None = None

    def database(self) -> str:
        if self.database_url is None:
            raise MissingSetting("AGENCY_DATABASE_URL is not set")
        return self.database_url.get_secret_value()

    def bootstrap(self) -> str:
        if not self.kafka_bootstrap:
            raise MissingSetting("AGENCY_KAFKA_BOOTSTRAP is not set")
        return self.kafka_bootstrap

    def security(self) -> dict[str, Any]:
        """kafka-python keyword arguments; none beyond the protocol when unset."""
        out: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism is not None:
            out["sasl_mechanism"] = self.kafka_sasl_mechanism
            out["sasl_plain_username"] = self.kafka_sasl_username
            password = self.kafka_sasl_password
            out["sasl_plain_password"] = (
                password.get_secret_value() if password else None
            )
        if self.kafka_ssl_cafile is not None:
            out["ssl_cafile"] = str(self.kafka_ssl_cafile)
        return out


class MissingSetting(ValueError):
    """A setting the consumer cannot run without."""
