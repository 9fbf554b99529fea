"""The long-lived publisher (`registry publish relay`, woken by the log's
notifications) killed with SIGKILL at random points while a writer appends
deliveries through intake: no message id is skipped, a message sent again
carries its original id, key and value, each partition's first copies come in
outbox order, and the reference consumer stores every message exactly once.

The publisher runs as a subprocess against a broker of the test's own (so
every record on it is this test's): what `registry publish relay` runs, with
windows of 20 so that a round records its position many times. It is killed
at a random moment after it has started listening, or (half of the kills)
just after it records a window, with sends still in flight; a last run
catches up, then everything is checked."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from consumers.agency import AgencyConsumer, Stats
from registry.bootstrap import Runtime
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.intake.population import PersonIn
from registry.publishing.admin import ensure_topics, write_broker_schemas
from registry.publishing.contract import all_topics, dead_letter_topics
from tests.conftest import utc
from tests.intake_helpers import batch, prepare, rec, student
from tests.integration.test_relay import read_all
from tests.reliability import assert_relayed_once_in_order, report

KILLS = int(os.environ.get("PUBLISHER_KILLS", "8"))
FIRST_DELAY_S = 1.0  # a kill comes this long at most after the publisher listens,
MAX_DELAY_S = 20.0  # longer while kills find it behind where the last one did
PER_DELIVERY = 20
WRITER_PAUSE_S = 0.2
WAIT_S = 180.0  # a bound on a wait, not a timing assertion
ROOT = Path(__file__).resolve().parents[2]
FAST_GROUP = (2000, 500)  # the embedded broker only
WINDOW = 20

PUBLISHER = """
import logging, os, signal, sys
from registry.bootstrap import bootstrap
from registry.infrastructure.wakeup import Wakeup

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
with bootstrap() as rt:
    publication = rt.publication(os.environ["REGISTRY_KAFKA_BOOTSTRAP"])
    publication.relay.window = int(os.environ["RELAY_WINDOW"])
    wakeup = Wakeup(rt.database_url, publication.channels())
    publication.run(lambda: bool(stop), wakeup, 1.0)
    publication.close()
"""
WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    if os.environ.get("REGISTRY_KAFKA_BOOTSTRAP"):
        pytest.skip("reads every record of its broker: needs an embedded one")
    kafka = EmbeddedKafka(
        tmp_path / "kafka", schema_dir=write_broker_schemas(tmp_path / "schemas")
    )
    try:
        bootstrap = kafka.start()
        ensure_topics(bootstrap, all_topics() + dead_letter_topics())
        yield bootstrap
    finally:
        kafka.stop()


def people(n: int) -> list[PersonIn]:
    """Residents of gm0014 with valid BSNs, some of them 16 or 17 (SVB)."""
    out: list[PersonIn] = []
    k = 310_000_000
    while len(out) < n:
        d = f"{k:09d}"
        k += 1
        if sum(int(x) * w for x, w in zip(d, WEIGHTS, strict=True)) % 11:
            continue
        out.append(
            PersonIn(
                bsn=d,
                achternaam="Jansen",
                voornamen="Anna",
                geboortedatum=date(2009, 1, 1) + timedelta(days=(len(out) * 37) % 1825),
                geslacht="MV"[len(out) % 2],
                postcode="9711AB",
                gemeente="GM0014",
            )
        )
    return out


class Writer(threading.Thread):
    """Deliveries of a few new students each, one after another, until stopped
    or out of students."""

    def __init__(self, rt: Runtime, persons: list[PersonIn]) -> None:
        super().__init__(daemon=True)
        self.rt, self.persons = rt, persons
        self.stop = threading.Event()
        self.delivered = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for number, i in enumerate(range(0, len(self.persons), PER_DELIVERY), 2):
                if self.stop.is_set():
                    return
                chunk = self.persons[i : i + PER_DELIVERY]
                records = [
                    rec(n, student(p.model_dump(mode="json")))
                    for n, p in enumerate(chunk, 1)
                ]
                at = utc(2026, 8, 20) + timedelta(seconds=number)
                self.rt.intake.submit(batch(*records, number=number), at)
                self.delivered += len(chunk)
                self.stop.wait(WRITER_PAUSE_S)
        except BaseException as e:  # reported by the test, not lost in a thread
            self.error = e


class Publisher:
    """The publisher in a process of its own, its log lines read."""

    def __init__(self, url: str, bootstrap: str, state: Path) -> None:
        env = {
            **os.environ,
            "REGISTRY_DATABASE_URL": url,
            "REGISTRY_KAFKA_BOOTSTRAP": bootstrap,
            "REGISTRY_STATE_DIR": str(state),  # the pseudonym keys the test's
            "REGISTRY_CLOCK": "simulated",
            "RELAY_WINDOW": str(WINDOW),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", PUBLISHER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if "woken by notifications" in line:
                self.listening.set()

    def wait_listening(self) -> None:
        if not self.listening.wait(WAIT_S):
            self.process.kill()
            raise AssertionError("the publisher did not start:\n" + "".join(self.lines))


def wait_for(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


def relay_position(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT seq FROM relay_positions WHERE name = 'relay'"
        ).fetchone()
    return int(row[0]) if row else 0


def moved_on(url: str, position: int) -> None:
    """Wait until the relay records a position past `position` (at most
    MAX_DELAY_S: a publisher with nothing to relay is killed idle)."""
    deadline = time.monotonic() + MAX_DELAY_S
    while relay_position(url) <= position and time.monotonic() < deadline:
        time.sleep(0.005)


def caught_up(rt: Runtime) -> Callable[[], bool]:
    def check() -> bool:
        extracts = [s for s in rt.projector.status() if s.name.startswith("extract")]
        with psycopg.connect(rt.database_url) as conn:
            row = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
        last = int(row[0]) if row else 0
        return (
            bool(extracts)
            and all(s.lag == 0 for s in extracts)
            and relay_position(rt.database_url) >= last
        )

    return check


def test_publisher_killed_while_writers_append_loses_nothing(
    runtime: Runtime, broker: str
) -> None:
    seed = int(os.environ.get("PUBLISHER_KILL_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    why = f"(PUBLISHER_KILL_SEED={seed})"
    rt, url, state = runtime, runtime.database_url, runtime.settings.state_dir
    prepare(rt)
    persons = people(5000)
    rt.population.load(persons, utc(2026, 7, 1))
    writer = Writer(rt, persons)
    writer.start()
    positions: list[int] = []
    span = FIRST_DELAY_S
    try:
        for _ in range(KILLS):
            before = relay_position(url)
            publisher = Publisher(url, broker, state)
            publisher.wait_listening()
            if rng.random() < 0.5:
                # Aimed at the relay at work: just after it recorded a window,
                # with that window's sends and the next ones still in flight.
                moved_on(url, before)
                time.sleep(rng.uniform(0, 0.05))
            else:
                time.sleep(rng.uniform(0, span))
            assert publisher.process.poll() is None, "".join(publisher.lines)
            publisher.process.send_signal(signal.SIGKILL)
            publisher.process.wait(timeout=30)
            positions.append(relay_position(url))
            # Killed before it relayed anything (still catching the extracts
            # up on what was appended while it was down): wait longer next time.
            moved = len(positions) < 2 or positions[-1] != positions[-2]
            span = span * 0.8 if moved else min(span * 1.6, MAX_DELAY_S)
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert writer.delivered > 0
    # The kills landed at different points: the position moved between most.
    assert len(set(positions)) > KILLS // 2, (positions, why)

    last = Publisher(url, broker, state)
    last.wait_listening()
    wait_for(caught_up(rt), "the last run to publish everything")
    last.process.send_signal(signal.SIGTERM)
    assert last.process.wait(timeout=60) == 0, "".join(last.lines)

    with psycopg.connect(url) as conn:
        stored = {
            str(r[0]): (r[1], r[2], r[3], r[4], r[5])
            for r in conn.execute(
                "SELECT message_id, seq, topic, key, payload, recipient FROM outbox"
            )
        }
        refused = conn.execute("SELECT count(*) FROM outbox_refused").fetchone()
    assert refused == (0,)
    recipients = {v[4] for v in stored.values()}
    assert {"cbs", "inspectie", "gm0014"} <= recipients, recipients
    records = read_all(broker, sorted({v[1] for v in stored.values()}))
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    # Every message is on the broker, nothing else is; a message sent again
    # carries its original id, key and value.
    assert_relayed_once_in_order(records, ids, stored, why)

    # The reference consumer stores each of CBS's messages exactly once.
    cbs = {i for i, v in stored.items() if v[4] == "cbs"}
    on_cbs = sum(1 for i in ids if i in cbs)
    consumer = AgencyConsumer(url, broker, "cbs", group_timeouts=FAST_GROUP)
    deadline = time.monotonic() + WAIT_S

    def until(s: Stats) -> bool:
        return (
            s.stored + s.duplicates + s.parked >= on_cbs or time.monotonic() > deadline
        )

    stats = consumer.run(until=until)
    assert (stats.stored, stats.duplicates, stats.parked) == (
        len(cbs),
        on_cbs - len(cbs),
        0,
    ), why
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT message_id FROM agency_cbs.messages").fetchall()
    assert sorted(str(r[0]) for r in rows) == sorted(cbs), why
    report(
        "publisher kill -9",
        kills=KILLS,
        students=writer.delivered,
        messages=len(stored),
        sent_again=len(records) - len(stored),
        lost=0,
        stored_twice=0,
    )
