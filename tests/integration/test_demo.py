"""`registry demo`: a whole (tiny) school year end to end, as a newcomer runs it,
with the projections, relay and consumers in processes beside the play."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from registry.domain.calendar import SchoolYearCalendar
from registry.projections.engine.runner import Projector
from registry.projections.queries import signals
from registry.projections.queries.diff import Side, counts
from registry.projections.queries.funding import statement
from registry.projections.timeline import Timeline
from registry.simulation.demo import DEMO_DB

REGISTRY = str(Path(sys.executable).parent / "registry")


def test_the_demo_plays_a_year_and_publishes_all_of_it(
    server_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = os.environ | {
        "REGISTRY_DATABASE_URL": server_url,
        "REGISTRY_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "REGISTRY_STATE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [REGISTRY, "demo", "--scale", "tiny", "--use-configured-kafka"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["mismatches"] == []
    assert summary["cards"]["students"] > 100
    assert summary["cards"]["messages published"] > 0
    assert set(summary["lag"].values()) == {0}  # all projected, all relayed
    stored = {r: c["stored"] + c["duplicates"] for r, c in summary["consumers"].items()}
    # What the relay sent met each topic's schema by the agencies' own check.
    assert {r: c["parked"] for r, c in summary["consumers"].items()} == dict.fromkeys(
        summary["consumers"], 0
    )
    # Every message the extracts wrote met its schema as they wrote it, so the
    # relay sent it without checking it again, and parked nothing.
    with psycopg.connect(make_conninfo(server_url, dbname=DEMO_DB)) as conn:
        unchecked = conn.execute(
            "SELECT count(*) FROM outbox WHERE NOT schema_checked "
            "AND redacted_at IS NULL"
        ).fetchone()
        refused = conn.execute("SELECT count(*) FROM outbox_refused").fetchone()
    assert (unchecked, refused) == ((0,), (0,))
    assert stored["cbs"] >= sum(
        n for topic, n in summary["topics"].items() if topic.startswith("bron.vo.cbs.")
    )
    assert set(summary["stages"]) >= {"play the year", "relay catch-up"}
    report = Path(summary["report"]).read_text(encoding="utf-8")
    assert report.count("<svg") >= 4
    assert_the_schools_add_up(summary, server_url)


def assert_the_schools_add_up(summary: dict[str, Any], server_url: str) -> None:
    """The summary's national figures (counted in SQL, or over several
    connections at once) are what each school's read side says."""
    # The printed URL has its password masked: the demo's database by name.
    url = make_conninfo(server_url, dbname=DEMO_DB)
    sj = summary["schooljaar"]
    projector = Projector(url)
    schema = projector.fresh(Timeline())
    now = datetime.fromisoformat(summary["at"])
    peildatum = SchoolYearCalendar.of(sj).count_date
    with psycopg.connect(url) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        curs = conn.cursor()
        codes: Counter[str] = Counter()
        for (brin,) in curs.execute("SELECT brin FROM schools").fetchall():
            codes.update(s["code"] for s in signals.current(curs, brin, sj, now))
        fotos = {
            (b, soort): Side(soort, t, p)
            for b, soort, t, p in curs.execute(
                "SELECT DISTINCT ON (brin, soort) brin, soort, stand_per, position "
                "FROM fotos ORDER BY brin, soort, versie DESC"
            )
        }
        diffs = {
            b: counts(curs, b, sj, peildatum, fotos[b, "voorlopig"], fotos[b, sd])
            for b, sd in fotos
            if sd == "definitief" and (b, "voorlopig") in fotos
        }
        funding = {
            b: float(statement(curs, b, sj)["totaal"]) for b in summary["funding"]
        }
    assert summary["signals"] == dict(codes)
    assert summary["diff"] == diffs
    assert summary["funding"] == funding
