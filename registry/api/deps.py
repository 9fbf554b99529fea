"""Authentication and authorisation: every route declares who may call it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from registry.access.policy import AccessError, Role
from registry.access.reads import Read
from registry.access.users import Principal
from registry.bootstrap import Runtime

bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def now(runtime: Runtime) -> datetime:
    return runtime.now()


def current_principal(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in first",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return runtime.access.principal(credentials.credentials, now(runtime))
    except AccessError as e:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}
        ) from None


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def authorise(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting `roles`; school and accountant only for their own BRIN
    (taken from the route's `brin` path parameter), operators for every BRIN."""

    def dependency(principal: PrincipalDep, request: Request) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role.value} may not do this",
            )
        brin = request.path_params.get("brin")
        if principal.role in (Role.SCHOOL, Role.ACCOUNTANT) and brin != principal.brin:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"user {principal.login} may act for its own BRIN only",
            )
        return principal

    return dependency


# Route dependencies: a school's year is read by the school, its accountant or an
# operator; national questions by operators only.
SCHOOL_SIDE = Depends(authorise(Role.SCHOOL, Role.ACCOUNTANT, Role.OPERATOR))
OPERATOR = Depends(authorise(Role.OPERATOR))


class ReadLog:
    """Records what a response shows of students in the audit of reads, before
    it is served (a failed write fails the request: ReadNotAudited)."""

    def __init__(self, runtime: Runtime, principal: Principal, request: Request):
        self.runtime = runtime
        self.principal = principal
        self.request = request

    def __call__(self, numbers: Sequence[str], brin: str | None = None) -> None:
        """`numbers`: the student number of each row shown (repeats allowed)."""
        distinct = {n for n in numbers if n}
        subject = None
        if len(distinct) == 1:
            number = distinct.pop()
            subject = self.runtime.registry.student_ids([number]).get(number)
        route = getattr(self.request.scope.get("route"), "path", "")
        read = Read(
            self.principal.login,
            self.principal.role.value,
            f"{self.request.method} {route}",
            brin or self.request.path_params.get("brin"),
            len(numbers),
            subject,
        )
        self.runtime.reads.record(read, now(self.runtime))


def read_log(runtime: RuntimeDep, principal: PrincipalDep, request: Request) -> ReadLog:
    return ReadLog(runtime, principal, request)


ReadLogDep = Annotated[ReadLog, Depends(read_log)]
