"""How the API answers what it refuses: an RFC 9457 problem for every refusal,
from the one table of registry/api/problems.py, the edge's own refusals
(unknown route, missing login, a request that does not fit its schema) and
anything unforeseen (500, logged by class only: an error's text may quote a
value)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from registry.api import problems
from registry.api.problems import PROBLEMS

log = logging.getLogger("registry.api")
MEDIA_TYPE = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _answer(
    request: Request,
    slug: str,
    title: str,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extension: Any,
) -> Response:
    content = problems.body(slug, title, status, detail, request.url.path, **extension)
    return ProblemResponse(
        content, status_code=status, headers=dict(headers) if headers else None
    )


async def on_problem(request: Request, exc: Exception) -> Response:
    problem = problems.problem_for(exc)
    if problem is None:
        return await on_unforeseen(request, exc)
    if problem.status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, problem.slug)
    return _answer(
        request,
        problem.slug,
        problem.title,
        problem.status,
        problems.detail(problem, exc),
        problem.headers(exc) or None,
        **problem.extension(exc),
    )


async def on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug, title = problems.edge(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else title
    return _answer(request, slug, title, exc.status_code, detail, exc.headers)


async def on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Where and what only: the input echoed back may be anything (NaN, bytes,
    # a number), which neither encodes reliably nor belongs in an answer.
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": ""}
    detail = f"{'.'.join(first['loc'])}: {first['msg']}" if errors else "invalid"
    slug, title = problems.edge(422)
    return _answer(request, slug, title, 422, detail, errors=errors)


async def on_unforeseen(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    slug, title = problems.INTERNAL
    return _answer(request, slug, title, 500, title)


def install_error_handlers(app: FastAPI) -> None:
    for problem in PROBLEMS:
        app.add_exception_handler(problem.exc, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_unforeseen)
