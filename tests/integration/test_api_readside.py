"""Point-in-time questions over the API, scoped by role and BRIN."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, batch, prepare, rec, student
from tests.integration.test_access import login


def test_snapshots_fotos_and_signals_over_the_api(runtime: Runtime) -> None:
    prepare(runtime)
    runtime.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET)), rec(3, student(OLD))),
        utc(2026, 8, 20),
    )
    runtime.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    runtime.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    runtime.intake.submit(
        batch(rec(1, student(PIET), "V"), number=2), utc(2026, 11, 20)
    )
    client = TestClient(create_app(runtime))
    at = runtime.now()
    own = login(client, runtime, "school01oe", Role.SCHOOL, at, brin="01OE")
    other = login(client, runtime, "school02ab", Role.SCHOOL, at, brin="02AB")
    operator = login(client, runtime, "operator", Role.OPERATOR, at)
    year = f"/v1/schools/01OE/years/{SJ}"

    assert client.get(year + "/snapshot", headers=other).status_code == 403
    # A read never catches the timeline up: it answers as far as the projector
    # got (here, the voorlopige foto) and says at which log position.
    head = runtime.registry.recorder.max_notification_id()
    stale = client.get(year + "/snapshot", headers=own)
    assert int(stale.headers["X-Log-Position"]) < head
    assert stale.json()["controletotaal"] == 3
    runtime.catch_up()  # what the projector does beside the API
    now = client.get(year + "/snapshot", headers=own)
    assert int(now.headers["X-Log-Position"]) == head
    assert now.json()["controletotaal"] == 2
    before = client.get(
        year + "/snapshot",
        params={"stand_per": "2026-11-16T00:00:00+00:00", "limit": 2},
        headers=own,
    ).json()
    assert before["controletotaal"] == 3 and len(before["inschrijvingen"]) == 2
    rest = client.get(
        year + "/snapshot",
        params={
            "stand_per": "2026-11-16T00:00:00+00:00",
            "cursor": before["next_cursor"],
        },
        headers=own,
    ).json()
    numbers = [
        e["leerling"]["bsn"] for e in before["inschrijvingen"] + rest["inschrijvingen"]
    ]
    assert (
        numbers == sorted([ANNA["bsn"], PIET["bsn"], OLD["bsn"]])
        and rest["next_cursor"] is None
    )

    sheet = client.get(year + "/fotos/voorlopig", params={"format": "csv"}, headers=own)
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [r["bsn"] for r in rows] == numbers and rows[0]["bekostigd"] == "ja"
    foto = client.get(year + "/fotos/voorlopig", headers=own).json()
    assert (foto["soort"], foto["versie"], len(foto["hash"])) == ("voorlopig", 1, 64)
    assert client.get(year + "/fotos/definitief", headers=own).status_code == 404
    changes = client.get(
        year + "/fotos/diff", params={"van": "voorlopig"}, headers=own
    ).json()
    assert [c["leerling"] for c in changes["uitgestroomd"]] == [PIET["bsn"]]
    assert client.get(year + "/signals", headers=own).json() == []

    national = client.get(
        "/v1/enrolments",
        params={"schooljaar": SJ, "valid_on": "2026-10-01"},
        headers=operator,
    ).json()
    assert national["total"] == 2
    assert (
        client.get(
            "/v1/enrolments",
            params={"schooljaar": SJ, "valid_on": "2026-10-01"},
            headers=own,
        ).status_code
        == 403
    )
    lag = client.get("/v1/projections", headers=operator).json()
    assert [(p["name"], p["lag"]) for p in lag] == [("timeline", 0)]
    assert (
        "/v1/schools/{brin}/years/{schooljaar}/snapshot"
        in client.get("/openapi.json").json()["paths"]
    )
    # Every answer above that showed students is in the audit of reads.
    audited = {r["route"].rsplit("/", 1)[-1] for r in runtime.reads.reads()}
    assert audited == {"snapshot", "{soort}", "diff", "signals", "enrolments"}
