"""Topic settings: what `registry publish topics` asks a cluster for, and the
settings it refuses before asking anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from registry.cli.main import _refusal, app
from registry.config import Settings
from registry.publishing.admin import TopicSpec


def test_the_settings_shape_every_topic() -> None:
    settings = Settings(
        kafka_topic_partitions=12,
        kafka_replication_factor=3,
        kafka_min_insync_replicas=2,
        kafka_max_message_bytes=4 * 1024 * 1024,
    )
    topic = TopicSpec.of(settings).new_topic("bron.vo.cbs.fotos.v1")
    assert (topic.num_partitions, topic.replication_factor) == (12, 3)
    assert topic.topic_configs == {
        "min.insync.replicas": "2",
        "retention.ms": "-1",
        "max.message.bytes": str(4 * 1024 * 1024),
    }


def test_the_default_keeps_history_and_room_for_a_foto() -> None:
    configs = TopicSpec.of(Settings()).configs()
    assert configs["retention.ms"] == "-1"
    assert int(configs["max.message.bytes"]) >= 2 * 1024 * 1024


def test_more_insync_replicas_than_replicas_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_KAFKA_MIN_INSYNC_REPLICAS", "2")
    result = CliRunner().invoke(app, ["publish", "topics"])
    assert result.exit_code == 2
    assert "REGISTRY_KAFKA_MIN_INSYNC_REPLICAS" in result.stderr


def test_a_wrong_setting_is_named_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_KAFKA_SASL_MECHANISM", "hunter2-secret")
    result = CliRunner().invoke(app, ["publish", "topics"])
    assert result.exit_code == 2
    assert "REGISTRY_KAFKA_SASL_MECHANISM" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_settings_error_raised_inside_a_command_exits_2_by_name() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Settings(kafka_replication_factor=1, kafka_min_insync_replicas=3)
    assert _refusal(refused.value) == 2
