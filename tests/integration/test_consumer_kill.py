"""The reference consumer killed (SIGKILL) at random points while messages keep
arriving: its store ends with every message exactly once. It commits offsets
only after its store, so a kill between the two re-reads messages, which its
deduplication by message id absorbs.

`CONSUMER_KILL_TRIALS` kills (default 4; `make reliability` runs 50)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid

import psycopg

from consumers.contract import dead_letter_topic
from registry.bootstrap import Runtime
from registry.publishing.admin import ensure_topics
from tests.agency_helpers import cloud_event, send
from tests.integration.test_consumer import payload
from tests.reliability import report

TRIALS = int(os.environ.get("CONSUMER_KILL_TRIALS", "4"))
CHUNK = 20  # messages a send while a run goes on
CONSUMER = """
import sys
import psycopg
from consumers.agency import AgencyConsumer
url, bootstrap, recipient, topic, total = sys.argv[1:6]
consumer = AgencyConsumer(url, bootstrap, recipient, topics=[topic],
                          group_timeouts=(2000, 500))
check = psycopg.connect(url, autocommit=True)

def all_stored(_):
    count = f"SELECT count(*) FROM agency_{recipient}.messages"
    return check.execute(count).fetchone()[0] >= int(total)

print("ready", flush=True)
consumer.run(until=all_stored, poll_ms=100)
print("done", flush=True)
"""


def stored(url: str, recipient: str) -> list[str]:
    with psycopg.connect(url) as conn:
        try:
            rows = conn.execute(f"SELECT message_id FROM agency_{recipient}.messages")
        except psycopg.errors.UndefinedTable:
            return []
        return [str(r[0]) for r in rows.fetchall()]


def test_a_killed_consumer_stores_every_message_once(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    seed = int(os.environ.get("CONSUMER_KILL_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    why = f"(CONSUMER_KILL_SEED={seed})"
    recipient = f"cbs{uuid.uuid4().hex[:6]}"
    topic = f"bron.vo.cbs.inschrijvingen.v1.{recipient}"
    ensure_topics(kafka_bootstrap, [topic, dead_letter_topic(recipient)])
    url = runtime.database_url
    sent: list[str] = []
    kills = progressed = 0
    before = 0

    def run(total: int) -> subprocess.Popen[str]:
        args = [url, kafka_bootstrap, recipient, topic, str(total)]
        return subprocess.Popen(
            [sys.executable, "-c", CONSUMER, *args], stdout=subprocess.PIPE, text=True
        )

    def message() -> tuple[bytes, bytes, list[tuple[str, bytes | None]]]:
        ce_id = str(uuid.uuid4())
        sent.append(ce_id)
        return b"k", json.dumps(payload(0)).encode(), cloud_event(topic, ce_id)

    for _ in range(TRIALS):
        process = run(10**9)  # never done on its own: killed
        assert (
            process.stdout is not None and process.stdout.readline().strip() == "ready"
        )
        # One message first: once it is stored the group has been joined (which
        # takes seconds); then the rest trickles in, a poll takes a few at a
        # time, and the kill lands anywhere among them, between a store's
        # commit and the offsets' commit too.
        send(kafka_bootstrap, topic, [message()])
        deadline = time.monotonic() + 30
        while len(stored(url, recipient)) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
        kill_at = time.monotonic() + rng.uniform(0, 0.5)
        while time.monotonic() < kill_at:
            send(kafka_bootstrap, topic, [message() for _ in range(CHUNK)])
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        kills += 1
        now = len(stored(url, recipient))
        progressed += before < now < len(sent)  # killed with work left
        before = now
    # A last run to the end: every message there, each once.
    final = run(len(sent))
    out, _ = final.communicate(timeout=180)
    assert final.returncode == 0 and "done" in out, (out, why)
    held = stored(url, recipient)
    assert len(held) == len(set(held)) == len(sent), why
    assert set(held) == set(sent), why
    report(
        "consumer kill -9",
        kills=kills,
        messages=len(sent),
        killed_mid_run=progressed,
        lost=0,
        twice=0,
    )
