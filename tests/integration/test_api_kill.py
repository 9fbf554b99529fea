"""A delivery through the API with the server killed (SIGKILL) at random
points, the window between the commit and the answer included: after a
restart the school delivers the same batch again and gets its feedback;
nothing accepted is lost, nothing is recorded twice, and the feedback says
exactly what the log holds.

`API_KILL_TRIALS` trials (default 4; `make reliability` runs 50). Each trial
delivers a new batch of new students to a fresh `registry` API process (the
production app on uvicorn, system clock), kills it after a delay drawn across
the time an uncut delivery takes, restarts it and delivers again.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyotp
from stdnum.nl import bsn as bsn_check

from registry.access.policy import Role
from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from tests.intake_helpers import batch, prepare, rec, student
from tests.reliability import report

TRIALS = int(os.environ.get("API_KILL_TRIALS", "4"))
RECORDS = 200
SERVER = """
import sys, uvicorn
from registry.api.app import create_app
from registry.bootstrap import bootstrap
from registry.config import Settings
with bootstrap(Settings()) as rt:
    uvicorn.run(create_app(rt), host="127.0.0.1", port=int(sys.argv[1]),
                log_level="warning")
"""


def bsns(start: int, count: int) -> list[str]:
    out, n = [], start
    while len(out) < count:
        candidate = f"{n:09d}"
        if bsn_check.is_valid(candidate):
            out.append(candidate)
        n += 1
    return out


def person(number: str) -> dict[str, Any]:
    return {
        "bsn": number,
        "achternaam": "Kill",
        "voornamen": "Test",
        "geboortedatum": "2013-04-04",
        "geslacht": "V",
        "postcode": "9711AB",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port)], env=self.env
        )

    def start(self) -> None:
        """Spawn the server and wait until it answers."""
        self.process = self.spawn()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the API did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


def session(rt: Runtime) -> dict[str, str]:
    """An operator's session on the real clock the served API runs on."""
    now = datetime.now(UTC)
    creds = rt.access.add_user("killer", Role.OPERATOR, now)
    totp = pyotp.TOTP(creds.totp_secret)
    rt.access.change_password(
        "killer", creds.initial_password, "sturdy-kettle-orbit", totp.at(now), now
    )
    later = now + timedelta(seconds=30)
    token = rt.access.login("killer", "sturdy-kettle-orbit", totp.at(later), later)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def deliver(url: str, headers: dict[str, str], body: str, out: list[Any]) -> None:
    try:
        answer = httpx.post(
            url + "/v1/batches", content=body, headers=headers, timeout=120
        )
        out.append(answer)
    except httpx.HTTPError as e:
        out.append(e)


def test_a_killed_delivery_is_recorded_once_or_not_at_all(
    runtime: Runtime, tmp_path: Path
) -> None:
    seed = int(os.environ.get("API_KILL_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    why = f"(API_KILL_SEED={seed})"
    prepare(runtime)
    numbers = bsns(300_000_000, RECORDS * (TRIALS + 1))
    runtime.population.load(
        [PersonIn.model_validate(person(n)) for n in numbers],
        datetime(2026, 7, 2, tzinfo=UTC),
    )
    headers = session(runtime)
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": runtime.database_url,
        "REGISTRY_STATE_DIR": str(tmp_path),
        "REGISTRY_CLOCK": "system",
    }
    server = Server(env)
    batches = [
        batch(
            *(
                rec(i + 1, student(person(n)))
                for i, n in enumerate(numbers[t * RECORDS : (t + 1) * RECORDS])
            ),
            number=t + 1,
        )
        for t in range(TRIALS + 1)
    ]
    try:
        server.start()
        began = time.monotonic()
        uncut: list[Any] = []
        deliver(server.url, headers, batches[0], uncut)
        span = time.monotonic() - began
        assert uncut[0].status_code == 200, (uncut[0].text[:300], why)
        answered_before_kill = committed_unanswered = lost_in_flight = 0
        for t in range(1, TRIALS + 1):
            out: list[Any] = []
            sender = threading.Thread(
                target=deliver, args=(server.url, headers, batches[t], out)
            )
            sender.start()
            if t % 3 == 0:  # aimed at the window between the commit and the answer
                _await_commit(runtime, t + 1, out, time.monotonic() + span * 3)
            else:
                time.sleep(rng.uniform(0, span * 1.3))
            server.kill()
            sender.join(timeout=60)
            stored = _stored(runtime, t + 1)
            if out and isinstance(out[0], httpx.Response):
                answered_before_kill += 1
            elif stored:
                committed_unanswered += 1
            else:
                lost_in_flight += 1
            server.start()
            again: list[Any] = []
            deliver(server.url, headers, batches[t], again)
            answer = again[0]
            assert answer.status_code == 200, (answer.text[:300], why)
            assert answer.json()["goedgekeurd"] == RECORDS, why
    finally:
        server.stop()
    enrolments, students = _recorded(runtime, numbers)
    assert enrolments == RECORDS * (TRIALS + 1), why  # each once, none lost
    assert students == RECORDS * (TRIALS + 1), why
    report(
        "api delivery kill -9",
        trials=TRIALS,
        records_each=RECORDS,
        answered_before_kill=answered_before_kill,
        committed_unanswered=committed_unanswered,
        not_committed=lost_in_flight,
        lost=0,
        twice=0,
        uncut_s=round(span, 2),
    )


def _await_commit(
    rt: Runtime, batchnummer: int, out: list[Any], deadline: float
) -> None:
    while not out and time.monotonic() < deadline and not _stored(rt, batchnummer):
        time.sleep(0.002)


def _stored(rt: Runtime, batchnummer: int) -> bool:
    with psycopg.connect(rt.database_url) as conn:
        row = conn.execute(
            "SELECT 1 FROM intake_batches WHERE batchnummer = %s", (batchnummer,)
        ).fetchone()
    return row is not None


def _recorded(rt: Runtime, numbers: list[str]) -> tuple[int, int]:
    with psycopg.connect(rt.database_url) as conn:
        enrolments = conn.execute(
            "SELECT count(*) FROM registry_events "
            "WHERE topic LIKE %s AND originator_version = 1",
            ("%Enrolment.Registered",),
        ).fetchone()
        students = conn.execute(
            "SELECT count(*) FROM student_numbers WHERE number = ANY(%s)", (numbers,)
        ).fetchone()
    assert enrolments is not None and students is not None
    return int(enrolments[0]), int(students[0])
