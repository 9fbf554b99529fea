"""How far each projection has applied the log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from registry.api.deps import OPERATOR, RuntimeDep
from registry.api.documents import ProjectionStatus
from registry.api.openapi import SIGNED_IN, answer, document_list, problems

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get(
    "/projections",
    dependencies=[OPERATOR],
    response_model=document_list(ProjectionStatus),
    responses={
        **answer("Every projection schema, by name, version and schema"),
        **problems(
            *SIGNED_IN,
            notes={403: "Operators only", 503: "The database is down"},
        ),
    },
)
def projection_status(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Position, head and lag of every projection (operators)."""
    return [s.__dict__ | {"lag": s.lag} for s in runtime.projector.status()]
