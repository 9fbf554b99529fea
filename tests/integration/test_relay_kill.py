"""The relay killed with SIGKILL at random points, again and again: nothing is
lost, a message sent again carries its original id, and the reference consumer
stores every message exactly once.

The relay runs as a subprocess (windows of 50) against the session's broker; a
few hundred messages are added to the outbox before each run, so every run
has work.
After at least KILLS kills a last run completes. Then Kafka is read in full and
the consumer loads it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from consumers.agency import AgencyConsumer, Stats
from registry.bootstrap import Runtime
from registry.projections.extracts import outbox
from registry.publishing.admin import ensure_topics
from registry.publishing.contract import TopicSchemas
from registry.publishing.relay import Relay, producer
from tests.integration.test_relay import read_all
from tests.reliability import assert_relayed_once_in_order, report

KILLS = int(os.environ.get("RELAY_KILLS", "20"))
BACKLOG = 400  # unsent messages before a run, at most: about 0.3 s of relaying
WINDOW = 50
MAX_DELAY_S = 0.5  # a kill comes this long at most after the relay is ready
MAX_RUNS = KILLS * 6
ROOT = Path(__file__).resolve().parents[2]
FAST_GROUP = (2000, 500)  # the embedded broker only (Apache Kafka's floor is 6000)

RELAY = """
import os
from registry.publishing.relay import Relay, producer
from registry.publishing.contract import TopicSchemas

class SuffixSchemas(TopicSchemas):
    def problem(self, topic, payload):
        return super().problem(topic.rsplit(".", 1)[0], payload)

kafka = producer(os.environ["REGISTRY_KAFKA_BOOTSTRAP"])
relay = Relay(os.environ["REGISTRY_DATABASE_URL"], kafka, SuffixSchemas(),
              window=int(os.environ["RELAY_WINDOW"]))
print("ready", flush=True)
sent = relay.run_once()
kafka.close()
print("done", sent, flush=True)
"""


class _SuffixSchemas(TopicSchemas):
    def problem(self, topic: str, payload: dict[str, Any]) -> str | None:
        return super().problem(topic.rsplit(".", 1)[0], payload)


def messages(start: int, count: int, suffix: str) -> list[outbox.Message]:
    """Valid messages for CBS, the Inspectorate, two municipalities and SVB, on
    the test's own topics (`<topic>.<suffix>`)."""
    out: list[outbox.Message] = []
    at = datetime(2026, 8, 20, 9, tzinfo=UTC)
    for i in range(start, start + count):
        kind = i % 5
        bsn = f"{300_000_000 + i:09d}"
        brin = f"{i % 7:02d}OE"
        common = {
            "mutatie": "T",
            "brin": brin,
            "vestiging": "00",
            "elementcode": "0300",
            "leerjaar": 1 + i % 4,
            "ingangsdatum": "2026-08-01",
            "einddatum": None,
        }
        recipient, topic, key, payload = {
            0: (
                "cbs",
                "bron.vo.cbs.inschrijvingen.v1",
                f"{i:032x}",
                {
                    "pseudoniem": f"{i:032x}",
                    **common,
                    "geregistreerd_op": (at + timedelta(seconds=i)).isoformat(),
                },
            ),
            1: (
                "inspectie",
                "bron.vo.inspectie.inschrijvingen.v1",
                brin,
                {"pseudoniem": f"{i:032x}", **common, "leeftijd": 13},
            ),
            2: (
                "gm0014",
                "bron.vo.gm0014.inschrijvingen.v1",
                bsn,
                {
                    "bsn": bsn,
                    "onderwijsnummer": None,
                    "geboortedatum": "2013-05-17",
                    "mutatie": "T",
                    "brin": brin,
                    "vestiging": "00",
                    "ingangsdatum": "2026-08-01",
                    "einddatum": None,
                },
            ),
            3: (
                "gm0363",
                "bron.vo.gm0363.vsv.v2",
                bsn,
                {
                    "status": "signaal",
                    "melding_id": str(uuid.UUID(int=i)),
                    "bsn": bsn,
                    "onderwijsnummer": None,
                    "geboortedatum": "2010-03-01",
                    "laatste_brin": brin,
                    "einddatum": "2026-12-31",
                    "peildatum": "2027-01-28",
                    "reden_einde": None,
                    "reden_intrekking": None,
                    "ingeschreven_brin": None,
                },
            ),
            4: (
                "svb",
                "bron.vo.svb.kinderbijslag.v2",
                bsn,
                {
                    "bsn": bsn,
                    "peildatum": date(2026, 9 + i % 4, 1).isoformat(),
                    "ingeschreven": True,
                    "soort": "eerste",
                    "leeftijd": 16,
                },
            ),
        }[kind]
        out.append(
            outbox.Message(
                recipient,
                f"{topic}.{suffix}",
                key,
                topic.split(".")[3],
                str(uuid.UUID(int=i)),
                payload,
                i + 1,
                at + timedelta(seconds=i),
                id_key=b"test",
            )
        )
    return out


def add(url: str, batch: list[outbox.Message]) -> None:
    with psycopg.connect(url) as conn:
        outbox.write(conn.cursor(), batch)


def start_relay(env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", RELAY],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"relay did not start: {line!r}\n{err}")
    return process


def test_relay_killed_at_random_points_loses_nothing(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    seed = int(os.environ.get("RELAY_KILL_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    why = f"(RELAY_KILL_SEED={seed})"
    url = runtime.database_url
    suffix = f"k{uuid.uuid4().hex[:8]}"
    made = messages(0, 5, suffix)
    topics = sorted({m.topic for m in made})
    ensure_topics(kafka_bootstrap, topics)
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "RELAY_WINDOW": str(WINDOW),
    }
    total, kills, completed = 0, 0, 0
    span = MAX_DELAY_S  # shrinks when runs finish first: fast machines relay sooner
    positions: list[int] = []
    relay = Relay(url, producer(kafka_bootstrap), _SuffixSchemas(), window=WINDOW)
    while kills < KILLS and kills + completed < MAX_RUNS:
        more = max(rng.randint(2 * WINDOW, BACKLOG) - relay.lag(), 0)
        add(url, messages(total, more, suffix))
        total += more
        process = start_relay(env)
        time.sleep(rng.uniform(0, span))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
            span = min(span * 1.1, MAX_DELAY_S)
        else:
            completed += 1
            span *= 0.7
        process.wait(timeout=30)
        positions.append(relay.position())
    assert kills >= KILLS, (kills, completed, why)
    process = start_relay(env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0 and out.startswith("done"), (out, err, why)
    assert relay.lag() == 0, why
    relay.kafka.close()
    # The kills landed at different points: the position moved between some
    # kills (progress) and not all runs got to the end.
    assert len(set(positions)) > KILLS // 2, (positions, why)

    with psycopg.connect(url) as conn:
        stored = {
            str(r[0]): (r[1], r[2], r[3], r[4])
            for r in conn.execute(
                "SELECT message_id, seq, topic, key, payload FROM outbox"
            )
        }
    assert len(stored) == total
    records = read_all(kafka_bootstrap, topics)
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    # Every message is in Kafka, nothing else is; a message sent again carries
    # its original id (and its original key and value).
    assert len(records) >= total
    assert_relayed_once_in_order(records, ids, stored, why)

    # The reference consumer stores each message exactly once.
    recipient = f"kill{uuid.uuid4().hex[:8]}"
    consumer = AgencyConsumer(
        url,
        kafka_bootstrap,
        recipient,
        topics=topics,
        group_timeouts=FAST_GROUP,
    )
    deadline = time.monotonic() + 60

    def until(s: Stats) -> bool:
        seen_all = s.stored + s.duplicates + s.parked >= len(records)
        return seen_all or time.monotonic() > deadline

    stats = consumer.run(until=until)
    assert (stats.stored, stats.duplicates, stats.parked) == (
        total,
        len(records) - total,
        0,
    ), why
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT message_id FROM agency_{recipient}.messages"
        ).fetchall()
    assert sorted(str(r[0]) for r in rows) == sorted(stored), why
    report(
        "relay kill -9",
        kills=kills,
        finished_first=completed,
        messages=total,
        sent_again=len(records) - total,
        lost=0,
        stored_twice=0,
    )
