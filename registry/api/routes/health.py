"""Health for orchestrators: `/healthz` says the process answers, `/readyz`
that it can serve (the database answers, and the broker when one is
configured). Neither needs a login, and neither says more than ok."""

from __future__ import annotations

import socket

from fastapi import APIRouter
from pydantic import BaseModel, Field

from registry.api.deps import RuntimeDep
from registry.api.openapi import answer, problems
from registry.api.problems import BrokerUnavailable
from registry.infrastructure.pools import connect

router = APIRouter(tags=["operations"])
BROKER_TIMEOUT_S = 2.0


class Health(BaseModel):
    status: str = Field(description="`ok` (alive) or `ready` (can serve)")
    checks: dict[str, str] = Field(
        default_factory=dict,
        description="per dependency: `ok`, or `not configured` (the broker)",
    )


@router.get(
    "/healthz",
    response_model=Health,
    responses=answer("The process answers", {"status": "ok", "checks": {}}),
)
def healthz() -> Health:
    """Liveness: no dependency is asked."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={
        **answer(
            "The database answers, and the broker when one is configured",
            {"status": "ready", "checks": {"database": "ok", "broker": "ok"}},
        ),
        **problems(
            503,
            notes={
                503: "A dependency is down (`database-unavailable` or "
                "`broker-unavailable`): try again after Retry-After"
            },
        ),
    },
)
def readyz(runtime: RuntimeDep) -> Health:
    """Readiness: a query on the database, a connection to the broker."""
    with connect(runtime.database_url) as conn:
        conn.execute("SELECT 1")
    broker = runtime.settings.kafka_bootstrap
    if broker:
        _reach(broker)
    checks = {"database": "ok", "broker": "ok" if broker else "not configured"}
    return Health(status="ready", checks=checks)


def _reach(bootstrap: str) -> None:
    """One of the bootstrap addresses accepts a connection (the broker's own
    health is Kafka's to report; this says it can be reached)."""
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host, int(port)), BROKER_TIMEOUT_S):
                return
        except (OSError, ValueError):
            continue
    raise BrokerUnavailable("no bootstrap address of the broker accepts a connection")
