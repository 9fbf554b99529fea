"""Deliveries over the API with the system clock: a delivery whose recorded time
comes out before one another writer has just committed is recorded a moment
later, as the command line does, not answered with a server error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from tests.factories import school
from tests.intake_helpers import ANNA, batch, prepare, rec, student
from tests.integration.test_access import login


@pytest.fixture
def system_clock(settings: Settings) -> Iterator[Runtime]:
    with bootstrap(settings.model_copy(update={"clock": "system"})) as rt:
        yield rt


def test_a_delivery_behind_a_later_commit_is_recorded_a_moment_later(
    system_clock: Runtime,
) -> None:
    rt = system_clock
    prepare(rt)
    client = TestClient(create_app(rt))
    headers = login(
        client, rt, "school01oe", Role.SCHOOL, datetime.now(UTC), brin="01OE"
    )
    # Another writer has just committed an instant a little ahead of this one.
    ahead = datetime.now(UTC) + timedelta(seconds=0.5)
    rt.registry.load_schools([school("01OE", naam="Elders")], ahead)
    answer = client.post(
        "/v1/batches", content=batch(rec(1, student(ANNA))), headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["goedgekeurd"] == 1
    last = rt.registry.last_recorded_at()
    assert last is not None and last >= ahead
