"""Sessions: log in, replace a password, say whose session it is."""

from __future__ import annotations

from fastapi import APIRouter, status

from registry.api.deps import PrincipalDep, RuntimeDep, now
from registry.api.schemas import LoginIn, PasswordChangeIn, PrincipalOut, TokenOut

router = APIRouter(prefix="/v1")


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, runtime: RuntimeDep) -> TokenOut:
    """Log in with login name, password and second-factor code."""
    return TokenOut(
        token=runtime.access.login(body.login, body.password, body.totp, now(runtime))
    )


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordChangeIn, runtime: RuntimeDep) -> None:
    """Replace an initial, reset or expiring password (≥ 8 characters)."""
    runtime.access.change_password(
        body.login, body.password, body.new_password, body.totp, now(runtime)
    )


@router.get("/me", response_model=PrincipalOut)
def me(principal: PrincipalDep) -> PrincipalOut:
    """Who the session belongs to."""
    return PrincipalOut(
        login=principal.login,
        role=principal.role.value,
        brin=principal.brin,
        recipient=principal.recipient,
    )
