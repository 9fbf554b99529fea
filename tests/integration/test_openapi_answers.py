"""What the routes answer is what the OpenAPI document says: every answer read
back through its documented model gives the same JSON, no key more or less."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel

from registry.access.policy import Role
from registry.api import documents
from registry.api.app import create_app
from registry.api.errors import MEDIA_TYPE
from registry.api.schemas import Problem
from registry.bootstrap import Runtime
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, batch, period, prepare, rec, student
from tests.integration.test_access import login


def fits(model: type[BaseModel], answer: Any) -> None:
    read = model.model_validate(answer)
    assert read.model_dump(mode="json", by_alias=True, exclude_unset=True) == answer


def fits_each(model: type[BaseModel], answer: Any) -> None:
    assert isinstance(answer, list) and answer
    for item in answer:
        fits(model, item)


def problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = response.json()
    fits(Problem, body)
    return body


def test_every_answer_fits_its_documented_model(runtime: Runtime) -> None:
    prepare(runtime)
    client = TestClient(create_app(runtime))
    at = runtime.now()
    own = login(client, runtime, "school01oe", Role.SCHOOL, at, brin="01OE")
    year = f"/v1/schools/01OE/years/{SJ}"

    unlicensed = period(elementcode="0011")  # X121: a signal, and not funded
    records = rec(1, student(ANNA)), rec(2, student(OLD)), rec(3, student(PIET))
    records[2]["inschrijving"] = unlicensed
    delivered = client.post("/v1/batches", content=batch(*records), headers=own)
    assert delivered.status_code == 200, delivered.text
    fits(documents.Feedback, delivered.json())
    feedback = client.get(f"/v1/batches/01OE/0/{SJ}/1/feedback", headers=own)
    fits(documents.Feedback, feedback.json())

    runtime.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    runtime.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    runtime.intake.submit(  # Piet's period deleted after the foto: a diff
        batch(rec(1, student(PIET), "V", inschrijving=unlicensed), number=2),
        utc(2026, 11, 20),
    )
    runtime.catch_up()

    # Sessions end: log in again at the simulated clock's new time.
    at = runtime.now()
    own = login(client, runtime, "school01oe-later", Role.SCHOOL, at, brin="01OE")
    operator = login(client, runtime, "operator", Role.OPERATOR, at)
    page = client.get(year + "/snapshot", params={"limit": 1}, headers=own).json()
    assert page["next_cursor"] is not None
    fits(documents.Snapshot, page)
    fits(
        documents.IssuedFoto, client.get(year + "/fotos/voorlopig", headers=own).json()
    )
    changes = client.get(year + "/fotos/diff", params={"van": "voorlopig"}, headers=own)
    fits(documents.FotoDiff, changes.json())
    assert changes.json()["uitgestroomd"][0]["oorzaak"]
    fits(documents.FundingStatement, client.get(year + "/funding", headers=own).json())
    signals = client.get(
        year + "/signals", params={"stand_per": "2026-11-16T00:00:00Z"}, headers=own
    )
    fits_each(documents.ListedSignal, signals.json())
    national = client.get(
        "/v1/enrolments",
        params={"schooljaar": SJ, "valid_on": "2026-10-01"},
        headers=operator,
    )
    fits(documents.Enrolments, national.json())
    fits_each(
        documents.ProjectionStatus,
        client.get("/v1/projections", headers=operator).json(),
    )
    fits_each(
        documents.AuditRead, client.get("/v1/audit/reads", headers=operator).json()
    )

    problem(client.get(year), 401)
    problem(client.get("/v1/schools/02AB/years/" + SJ, headers=own), 403)
    problem(client.get(year + "/fotos/definitief", headers=own), 404)
    invalid = problem(client.get(year + "/snapshot?limit=0", headers=own), 422)
    assert invalid["errors"]
    refused = problem(client.post("/v1/batches", content=batch(), headers=own), 422)
    assert refused["problems"]
    typed = {**own, "Content-Type": "text/plain"}
    problem(client.post("/v1/batches", content="{}", headers=typed), 415)
