"""The API's own schemas (never the events)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


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
