"""FastAPI app. Built from a Runtime by the composition root; nothing at import."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, status

from registry.access.policy import Role
from registry.access.users import Principal
from registry.api import batches, readside
from registry.api.deps import PrincipalDep, RuntimeDep, authorise, now
from registry.api.errors import install_error_handlers
from registry.api.schemas import (
    LoginIn,
    PasswordChangeIn,
    PrincipalOut,
    SchoolYearOut,
    TokenOut,
)
from registry.bootstrap import Runtime

SCHOOL_SIDE = (Role.SCHOOL, Role.ACCOUNTANT, Role.OPERATOR)


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="BRON-VO enrolment registry", version="0.1.0")
    app.state.runtime = runtime

    install_error_handlers(app)

    @app.post("/v1/auth/login", response_model=TokenOut)
    def login(body: LoginIn, runtime: RuntimeDep) -> TokenOut:
        """Log in with login name, password and second-factor code."""
        return TokenOut(
            token=runtime.access.login(
                body.login, body.password, body.totp, now(runtime)
            )
        )

    @app.post("/v1/auth/password", status_code=status.HTTP_204_NO_CONTENT)
    def change_password(body: PasswordChangeIn, runtime: RuntimeDep) -> None:
        """Replace an initial, reset or expiring password (≥ 8 characters)."""
        runtime.access.change_password(
            body.login, body.password, body.new_password, body.totp, now(runtime)
        )

    @app.get("/v1/me", response_model=PrincipalOut)
    def me(principal: PrincipalDep) -> PrincipalOut:
        """Who the session belongs to."""
        return PrincipalOut(
            login=principal.login,
            role=principal.role.value,
            brin=principal.brin,
            recipient=principal.recipient,
        )

    @app.get("/v1/schools/{brin}/years/{schooljaar}", response_model=SchoolYearOut)
    def school_year(
        brin: str,
        schooljaar: str,
        runtime: RuntimeDep,
        _: Annotated[Principal, Depends(authorise(*SCHOOL_SIDE))],
    ) -> SchoolYearOut:
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

    app.include_router(batches.router)
    app.include_router(readside.router)
    return app
