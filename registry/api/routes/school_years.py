"""The stage of a school's registration in a school year."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from registry.api.deps import SCHOOL_SIDE, RuntimeDep
from registry.api.openapi import SIGNED_IN, answer, problems
from registry.api.schemas import SchoolYearOut

router = APIRouter(prefix="/v1")


@router.get(
    "/schools/{brin}/years/{schooljaar}",
    response_model=SchoolYearOut,
    dependencies=[SCHOOL_SIDE],
    responses={
        **answer("The stage of the registration"),
        **problems(
            *SIGNED_IN,
            404,
            notes={404: "The school has no registration in that school year"},
        ),
    },
)
def school_year(brin: str, schooljaar: str, runtime: RuntimeDep) -> SchoolYearOut:
    """The stage of a school's registration in a school year."""
    year = runtime.registry.school_year(brin, schooljaar)
    if year is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no registration for {brin} {schooljaar}"
        )
    return SchoolYearOut(
        brin=year.brin,
        schooljaar=year.schooljaar,
        stage=year.stage.value,
        declared_on=year.declared_on,
        stopped_on=year.stopped_on,
    )
