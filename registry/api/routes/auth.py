"""Sessions: log in, replace a password, say whose session it is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from registry.api.deps import PrincipalDep, RuntimeDep, bearer, now
from registry.api.schemas import LoginIn, PasswordChangeIn, PrincipalOut, TokenOut

router = APIRouter(prefix="/v1")


def source(request: Request) -> str:
    """The client's address, for throttling (behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so this is the real client)."""
    return request.client.host if request.client else "unknown"


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, runtime: RuntimeDep, request: Request) -> TokenOut:
    """Log in with login name, password and second-factor code. Every failed
    step gets the same 401; repeated failures get 429 with Retry-After."""
    token = runtime.access.login(
        body.login, body.password, body.totp, now(runtime), source(request)
    )
    return TokenOut(token=token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """End this session (nothing happens for a token that is no session)."""
    if credentials is not None:
        runtime.access.logout(credentials.credentials, now(runtime))


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: PasswordChangeIn, runtime: RuntimeDep, request: Request
) -> None:
    """Replace an initial, reset or expiring password: at least 8 characters
    and not easy to guess (common passwords, repeats and words with a digit
    are refused). Every session of the user ends; each code works once."""
    runtime.access.change_password(
        body.login,
        body.password,
        body.new_password,
        body.totp,
        now(runtime),
        source(request),
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
