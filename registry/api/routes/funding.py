"""A school's funding statement from its issued fotos."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from registry.api.deps import SCHOOL_SIDE, RuntimeDep
from registry.api.documents import FundingStatement
from registry.api.openapi import SIGNED_IN, answer, document, problems
from registry.api.reading import YEAR, live_timeline, year_calendar
from registry.projections.queries.funding import statement

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get(
    YEAR + "/funding",
    dependencies=[SCHOOL_SIDE],
    response_model=document(FundingStatement),
    responses={
        **answer("The funding statement", timeline=True),
        **problems(
            *SIGNED_IN,
            404,
            422,
            notes={
                404: "No funding statement: no voorlopig or definitief foto yet, "
                "or one that cannot be funded (`no-funding-statement`)",
                422: "schooljaar outside 1990-2100 or not `YYYY-YYYY+1`",
            },
        ),
    },
)
def get_funding(
    brin: str, schooljaar: str, runtime: RuntimeDep, response: Response
) -> dict[str, Any]:
    """Funding from the definitief (else, provisionally, the voorlopig) foto,
    each line count × rate (2022 amounts)."""
    year_calendar(schooljaar)
    with live_timeline(runtime, response) as r:
        return statement(r.cursor, brin, schooljaar)
