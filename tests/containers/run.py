"""`make test-containers`: the integration suite against PostgreSQL 18 and
Apache Kafka started by testcontainers, instead of the embedded servers.

Needs a Docker engine; without one it says so and exits 0 (skipped), so the
target is safe to call anywhere. The suite's fixtures use the servers named by
REGISTRY_DATABASE_URL and REGISTRY_KAFKA_BOOTSTRAP (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

POSTGRES_IMAGE = "postgres:18"
KAFKA_IMAGE = "apache/kafka:4.1.0"


def engine_missing() -> str | None:
    """Why no container can start here, or None."""
    try:
        import docker
    except ModuleNotFoundError:
        return "the 'containers' extra is not installed (pip install -e '.[containers]')"
    try:
        docker.from_env().ping()
    except Exception as e:  # no socket, no permission, no daemon
        return f"no Docker engine answers ({type(e).__name__})"
    return None


def main() -> int:
    reason = engine_missing()
    if reason is not None:
        print(f"test-containers skipped: {reason}")  # noqa: T201
        return 0
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer(POSTGRES_IMAGE, driver=None) as postgres,
        KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka,
    ):
        env = os.environ | {
            "REGISTRY_DATABASE_URL": postgres.get_connection_url(),
            "REGISTRY_KAFKA_BOOTSTRAP": kafka.get_bootstrap_server(),
        }
        # Tests of what only the embedded broker does (it checks each record
        # against its topic's JSON Schema) skip themselves on a configured one.
        args = ["-q", "--basetemp", "/tmp/registry-containers", "tests/integration"]
        return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


if __name__ == "__main__":
    sys.exit(main())
