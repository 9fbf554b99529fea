"""A school's attention signals as known at a time."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from registry.api.deps import SCHOOL_SIDE, ReadLogDep, RuntimeDep
from registry.api.documents import ListedSignal as Listed
from registry.api.openapi import SIGNED_IN, answer, document_list, problems
from registry.api.reading import YEAR, StandPer, known_at, live_timeline, year_calendar
from registry.domain.signals import ListedSignal
from registry.projections.queries import signals as signal_list

router = APIRouter(prefix="/v1", tags=["read side"])


# The answer is a list of plain dicts (pydantic takes no typing.TypedDict on
# Python 3.11), documented as the ListedSignal model.
@router.get(
    YEAR + "/signals",
    dependencies=[SCHOOL_SIDE],
    response_model=document_list(Listed),
    responses={
        **answer("The signals, by code and student number", timeline=True),
        **problems(
            *SIGNED_IN,
            422,
            notes={
                422: "schooljaar outside 1990-2100 or not `YYYY-YYYY+1`, or a "
                "stand_per without UTC offset or outside 1990-2100"
            },
        ),
    },
)
def get_signals(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    audit: ReadLogDep,
    stand_per: StandPer = None,
) -> list[ListedSignal]:
    """The school's attention signals as known at stand_per."""
    year_calendar(schooljaar)
    at = known_at(runtime, stand_per)
    with live_timeline(runtime, response) as r:
        listed = signal_list.current(r.cursor, brin, schooljaar, at)
    audit([s["leerling"] for s in listed])
    return listed
