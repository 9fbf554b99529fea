"""Schemathesis against the API's own OpenAPI document, with each role's
session (issue 16, item 5): whatever it generates, valid or not, the API
answers without a server error, with a status the document declares, in the
declared media type and shape.

`API_FUZZ_EXAMPLES` examples per operation and role (default 8; `make
reliability` runs 60)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, batch, prepare, rec, student
from tests.integration.test_access import login
from tests.reliability import report

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api(runtime: Runtime) -> Any:
    """A school with a delivered batch, a declared year and a voorlopige foto,
    so reads find something; the schema loaded from the app itself."""
    prepare(runtime)
    runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
    runtime.registry.declare_complete("01OE", SJ, utc(2026, 10, 2))
    runtime.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    runtime.catch_up()
    app = create_app(runtime)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def sessions(api: Any, runtime: Runtime) -> dict[str, dict[str, str]]:
    from fastapi.testclient import TestClient

    client = TestClient(api.app)
    at = runtime.now()
    return {
        "school": login(client, runtime, "fz-school", Role.SCHOOL, at, brin="01OE"),
        "accountant": login(
            client, runtime, "fz-accountant", Role.ACCOUNTANT, at, brin="01OE"
        ),
        "agency": login(client, runtime, "fz-cbs", Role.AGENCY, at, recipient="cbs"),
        "operator": login(client, runtime, "fz-operator", Role.OPERATOR, at),
    }


def _cross_tenant(role: str, case: Any, status: int) -> str | None:
    """A read another tenant's data: a school's or accountant's session
    answered 200 for another BRIN, or an agency's for any school's route."""
    if status != 200:
        return None
    brin = (case.path_parameters or {}).get("brin")
    if brin is None:
        return None
    if role in ("school", "accountant") and brin != "01OE":
        return f"{role} of 01OE read {case.method} {case.formatted_path}"
    if role == "agency":
        return f"an agency read {case.method} {case.formatted_path}"
    return None


def test_no_server_error_and_every_answer_as_documented(
    api: Any, sessions: dict[str, dict[str, str]]
) -> None:
    """Each operation's hypothesis strategy, called with every role's session
    (schemathesis' pytest plugin does not run on pytest 9: its strategies are
    driven here directly)."""
    failed: dict[str, str] = {}
    calls = operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            nonlocal calls
            for role, headers in sessions.items():
                auth = {"Authorization": headers["Authorization"]}
                answer = case.call_and_validate(headers=auth, checks=CHECKS)
                calls += 1
                crossed = _cross_tenant(role, case, answer.status_code)
                assert not crossed, crossed

        try:
            run()
        except Exception as e:  # every operation runs; all failures are shown
            failed[operation.label] = str(e)[:2000]
    assert not failed, "\n\n".join(f"{k}: {v}" for k, v in failed.items())
    assert operations >= 17
    report(
        "schemathesis (4 roles)",
        operations=operations,
        examples_each=EXAMPLES,
        calls=calls,
        server_errors=0,
        undocumented=0,
        cross_tenant=0,
    )
