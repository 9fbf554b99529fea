"""The API's own schemas (never the events)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from registry.api.problems import EDGE, INTERNAL, PROBLEMS, TYPE_BASE


class LoginIn(BaseModel):
    login: str
    password: str
    totp: str = Field(description="current code of the second factor")


class PasswordChangeIn(LoginIn):
    new_password: str = Field(min_length=8)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105


class PrincipalOut(BaseModel):
    login: str
    role: str
    brin: str | None
    recipient: str | None


class SchoolYearOut(BaseModel):
    brin: str
    schooljaar: str
    stage: str
    declared_on: date | None
    stopped_on: date | None


def _absent(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent(description: str) -> Any:
    """A field that is left out rather than null: documented without a default."""
    return Field(default=None, description=description, json_schema_extra=_absent)


# Every refusal is an RFC 9457 problem (registry/api/problems.py); these models
# describe it for the OpenAPI document only.
_SLUGS = sorted(
    {p.slug for p in PROBLEMS} | {slug for slug, _ in EDGE.values()} | {INTERNAL[0]}
)
_TYPE = f"the reason, stable: `{TYPE_BASE}` and one of " + ", ".join(
    f"`{slug}`" for slug in _SLUGS
)


class FieldError(BaseModel):
    """Where a request does not fit its schema, and why (never the value)."""

    loc: list[str] = Field(
        description="where: `path`, `query` or `body`, then the name (and index)"
    )
    msg: str = Field(description="what is wrong")
    type: str = Field(description="pydantic's error type, e.g. `greater_than_equal`")


class BatchProblem(BaseModel):
    """One fault of a batch refused as a whole (at most 100 are listed, the
    last then says how many more there were)."""

    path: str = Field(
        description="the field at fault, e.g. `meldingen.3.leerling.geslacht`, "
        "or `(batch)` for the batch as a whole"
    )
    rule: str = Field(description="the rule it breaks")
    value: str | int | float | bool | None = Field(
        description="the value found: scalars only (`…` for others), strings cut "
        "at 100 characters, a BSN or onderwijsnummer masked"
    )


class Problem(BaseModel):
    """A refusal (RFC 9457, `application/problem+json`)."""

    type: str = Field(description=_TYPE)
    title: str = Field(description="the reason in a few words, the same per type")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="this occurrence: what was refused and why")
    instance: str = Field(description="the path of the request")
    reason: str | SkipJsonSchema[None] = absent(
        "login and access refusals only: `invalid_credentials`, "
        "`too_many_attempts`, `password_change_required`, `password_expired`, "
        "`weak_password` or `refused`"
    )
    problems: list[BatchProblem] | SkipJsonSchema[None] = absent(
        "a batch refused as a whole: every fault found, nothing recorded"
    )
    errors: list[FieldError] | SkipJsonSchema[None] = absent(
        "a request that does not fit its schema: every misfit"
    )
