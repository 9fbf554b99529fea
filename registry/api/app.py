"""FastAPI app. Built from a Runtime by the composition root; nothing at import."""

from __future__ import annotations

from fastapi import FastAPI

from registry.api.errors import install_error_handlers
from registry.api.openapi import RegistryAPI
from registry.api.routes import (
    audit,
    auth,
    batches,
    enrolments,
    fotos,
    funding,
    projections,
    school_years,
    signals,
    snapshots,
)
from registry.bootstrap import Runtime
from registry.infrastructure.secrets import server_key


def create_app(runtime: Runtime) -> FastAPI:
    app = RegistryAPI(title="BRON-VO enrolment registry", version="0.1.0")
    app.state.runtime = runtime
    app.state.cursor_key = server_key(runtime.settings, "cursor")
    install_error_handlers(app)
    # In this order in the OpenAPI document.
    app.include_router(auth.router)
    app.include_router(school_years.router)
    app.include_router(batches.router)
    app.include_router(snapshots.router)
    app.include_router(enrolments.router)
    app.include_router(fotos.router)
    app.include_router(signals.router)
    app.include_router(funding.router)
    app.include_router(projections.router)
    app.include_router(audit.router)
    return app
