"""How far each projection has applied the log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from registry.api.deps import OPERATOR, RuntimeDep

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get("/projections", dependencies=[OPERATOR])
def projection_status(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Position, head and lag of every projection (operators)."""
    return [s.__dict__ | {"lag": s.lag} for s in runtime.projector.status()]
