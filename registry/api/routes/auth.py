"""Sessions: log in, replace a password, say whose session it is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from registry.api import examples
from registry.api.deps import PrincipalDep, RuntimeDep, bearer, now
from registry.api.openapi import answer, problems
from registry.api.schemas import LoginIn, PasswordChangeIn, PrincipalOut, TokenOut

router = APIRouter(prefix="/v1")


def source(request: Request) -> str:
    """The client's address, for throttling (behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so this is the real client)."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/auth/login",
    response_model=TokenOut,
    responses={
        **answer("A session token: send it as `Authorization: Bearer <token>`"),
        **problems(
            401,
            403,
            422,
            429,
            503,
            notes={
                401: "Login name, password or code is wrong: one refusal for "
                "every step (`invalid-credentials`)",
                403: "The initial or reset password must be replaced first, or "
                "the password has expired: use `/v1/auth/password`",
                422: "The body does not fit its schema",
            },
            cases={401: {"refused": examples.LOGIN_REFUSED}},
        ),
    },
)
def login(body: LoginIn, runtime: RuntimeDep, request: Request) -> TokenOut:
    """Log in with login name, password and second-factor code. Every failed
    step gets the same 401; repeated failures get 429 with Retry-After."""
    token = runtime.access.login(
        body.login, body.password, body.totp, now(runtime), source(request)
    )
    return TokenOut(token=token)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={204: {"description": "Logged out"}, **problems(503)},
    openapi_extra={"security": [{}]},  # the session is optional here
)
def logout(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """End this session (nothing happens for a token that is no session)."""
    if credentials is not None:
        runtime.access.logout(credentials.credentials, now(runtime))


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        204: {"description": "Replaced; every session of the user has ended"},
        **problems(
            401,
            422,
            429,
            503,
            notes={
                401: "Login name, password or code is wrong (`invalid-credentials`)",
                422: "The body does not fit its schema, or the new password is "
                "refused (`weak-password`)",
            },
            cases={401: {"refused": examples.LOGIN_REFUSED}},
        ),
    },
)
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


@router.get(
    "/me",
    response_model=PrincipalOut,
    responses={**answer("The session's user"), **problems(401, 503)},
)
def me(principal: PrincipalDep) -> PrincipalOut:
    """Who the session belongs to."""
    return PrincipalOut(
        login=principal.login,
        role=principal.role.value,
        brin=principal.brin,
        recipient=principal.recipient,
    )
