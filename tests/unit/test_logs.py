"""Logging as every process sets it up: JSON lines in production, the level
from the settings, and personal data masked in whatever a record carries."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import datetime

import pytest

from registry.config import Settings
from registry.infrastructure.logs import configure_logging, mask

BSN = "123456782"


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    """stderr, where the handler writes (conftest undoes the setup after)."""
    return capsys


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_production_logs_json_lines_with_time_level_logger_and_message(
    logs: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(env="production"), terminal=True)
    logging.getLogger("registry.relay").warning("round failed (%s)", "KafkaError")
    (line,) = lines(logs)
    assert line["level"] == "WARNING"
    assert line["logger"] == "registry.relay"
    assert line["message"] == "round failed (KafkaError)"
    assert datetime.fromisoformat(str(line["time"])).utcoffset() is not None


def test_a_bsn_and_a_name_are_masked_in_message_arguments_and_traceback(
    logs: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(log_format="json"))
    log = logging.getLogger("registry.intake")
    log.warning(f"record of {BSN} refused")
    log.warning("student %s: %r", BSN, {"achternaam": "de Vries", "leerjaar": 2})
    try:
        raise ValueError(f"Key (number)=({BSN}) already exists")
    except ValueError:
        log.exception("insert failed")
    out = lines(logs)
    text = json.dumps(out)
    assert BSN not in text and "de Vries" not in text
    assert out[0]["message"] == "record of *** refused"
    assert out[1]["message"] == "student ***: {'achternaam': ***, 'leerjaar': 2}"
    assert "ValueError: Key (number)=(***) already exists" in str(out[2]["exception"])


def test_the_mask_leaves_other_numbers_and_ids_alone() -> None:
    kept = "position 1234567890, seq 12345678, id 0a1b2c3d-1234-4123-8123-123456789abc"
    assert mask(kept) == kept
    assert mask(f"bsn={BSN}; onderwijsnummer: {BSN}") == "bsn=***; onderwijsnummer: ***"
    assert mask('"voornamen": "Anna Maria", "geboortedatum": "2013-05-17"') == (
        '"voornamen": ***, "geboortedatum": ***'
    )


def test_the_level_setting_decides_what_is_written(
    logs: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(log_level="warning", log_format="json"))
    log = logging.getLogger("registry.projections")
    log.info("caught up")
    log.warning("stalled")
    assert [line["message"] for line in lines(logs)] == ["stalled"]
    configure_logging(Settings(log_level="DEBUG", log_format="json"))
    log.debug("page applied")
    assert [line["message"] for line in lines(logs)] == ["page applied"]
    # The client that logs what it carries stays at INFO even then, and is
    # silent otherwise (an error per connection attempt is noise).
    assert logging.getLogger("kafka").getEffectiveLevel() == logging.INFO
    configure_logging(Settings(log_format="json"))
    assert logging.getLogger("kafka").getEffectiveLevel() == logging.CRITICAL


def test_a_human_format_off_a_terminal_is_one_plain_line(
    logs: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(), terminal=False)
    logging.getLogger("registry.relay").error("outbox seq 7 refused")
    (line,) = logs.readouterr().err.splitlines()
    assert line.endswith(" ERROR registry.relay: outbox seq 7 refused")


def test_a_bad_log_setting_is_refused_by_every_command() -> None:
    env = {"REGISTRY_LOG_LEVEL": "loud", "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli.main", "projections", "status"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "registry: not configured: REGISTRY_LOG_LEVEL: Input should be"
    )
