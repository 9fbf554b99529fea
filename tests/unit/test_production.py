"""Production mode (issue 17, item 2, in part): REGISTRY_ENV=production
refuses what is for the demo and tests (an embedded server, a generated key,
the simulated clock, the demo) before it starts anything, and says so in one
line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from registry.bootstrap import bootstrap
from registry.config import ProductionRefused, Settings
from registry.infrastructure.secrets import pseudonym_key, server_key

URL = SecretStr("postgresql://registry@db.invalid/registry")  # never reached


def test_production_refuses_the_embedded_database_before_starting_it(
    tmp_path: Path,
) -> None:
    settings = Settings(env="production", state_dir=tmp_path)
    with (
        pytest.raises(ProductionRefused, match="REGISTRY_DATABASE_URL"),
        bootstrap(settings),
    ):
        pass
    assert list(tmp_path.iterdir()) == []  # no server was started


def test_production_refuses_the_simulated_clock(tmp_path: Path) -> None:
    settings = Settings(
        env="production", database_url=URL, clock="simulated", state_dir=tmp_path
    )
    with pytest.raises(ProductionRefused, match="simulated clock"):
        settings.check_production()
    Settings(env="production", database_url=URL, state_dir=tmp_path).check_production()


def test_production_refuses_generated_keys(tmp_path: Path) -> None:
    production = Settings(env="production", database_url=URL, state_dir=tmp_path)
    with pytest.raises(ProductionRefused, match="REGISTRY_PSEUDONYM_KEYS"):
        pseudonym_key(production, "cbs")
    with pytest.raises(ProductionRefused, match="REGISTRY_SERVER_KEYS"):
        server_key(production, "cursor")
    assert list(tmp_path.iterdir()) == []  # nothing generated
    configured = Settings(
        env="production",
        database_url=URL,
        state_dir=tmp_path,
        pseudonym_keys={"cbs": SecretStr("k" * 32)},
    )
    assert pseudonym_key(configured, "cbs") == b"k" * 32
    development = Settings(state_dir=tmp_path)
    assert len(pseudonym_key(development, "cbs")) == 64  # generated, kept
    assert pseudonym_key(development, "cbs") == pseudonym_key(development, "cbs")


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["demo", "--scale", "tiny"], "the demo"),
        (["feedback", "01OE", "0", "2026-2027", "1"], "REGISTRY_DATABASE_URL"),
    ],
)
def test_a_command_in_production_says_what_it_refuses(
    tmp_path: Path, args: list[str], refused: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")} | {
        "REGISTRY_ENV": "production",
        "REGISTRY_STATE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("registry: not configured for production: ")
    assert refused in line
    assert list(tmp_path.iterdir()) == []


def test_the_demo_refuses_a_configured_kafka_unless_told(tmp_path: Path) -> None:
    """Synthetic students must not reach a real cluster's agency topics by a
    variable left set in the shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")} | {
        "REGISTRY_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "REGISTRY_STATE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli.main", "demo", "--scale", "tiny"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--use-configured-kafka" in done.stderr
    assert list(tmp_path.iterdir()) == []  # refused before anything started


def test_a_printed_conninfo_never_shows_the_password() -> None:
    from registry.infrastructure.redact import masked_conninfo

    shown = masked_conninfo("postgresql://registry:s3cr3t@db.internal:5432/bron")
    assert "s3cr3t" not in shown
    assert "db.internal" in shown and "bron" in shown
