"""A projector killed in the middle of a catch-up loses nothing and applies
nothing twice: each page is applied and its position advanced in one
transaction, so a restart resumes where the last commit left off.

A history of a few hundred records (with school revisions, key data changes,
fotos and an assurance report with exclusions) is projected into a schema by
catch-ups in a subprocess that is SIGKILLed mid-way, again and again; after
every kill the schema must equal an uninterrupted build up to the position it
committed, and once finished, an uninterrupted build of the whole log. The
live projection, fed in small catch-ups interleaved with the deliveries, must
equal a rebuild from the log.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.bootstrap import Runtime
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.intake.population import PersonIn
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import batch, prepare, rec
from tests.reliability import report

SEED = int(os.environ.get("PROJECTION_KILL_SEED", "20260801"))
TRIALS = int(os.environ.get("PROJECTION_KILL_TRIALS", "12"))
SCHOOLS = ("01OE", "02AB")
INGANG = ("2026-08-01", "2026-08-20", "2026-09-01", "2026-10-01", "2026-11-16")
EIND = ("2026-09-30", "2026-10-01", "2026-12-31", "2027-07-31")

# The catch-up that gets killed: it reports every page once the page is
# applied, before its commit; with a page number, it then waits inside that
# page's transaction for the kill.
CHILD = """
import sys, time
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline
url, schema, size, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pages = 0
def on_page(position, limit):
    global pages
    pages += 1
    print(position, limit, flush=True)
    if pages == stop_at:
        time.sleep(120)
Projector(url).catch_up(Timeline(), schema, page_size=size, on_page=on_page)
print("done", flush=True)
"""


def persons(n: int) -> list[dict[str, Any]]:
    """n people with valid BSNs (11-proof), all living in 9711AB."""
    out: list[dict[str, Any]] = []
    body = 31_000_000
    while len(out) < n:
        body += 1
        digits = [int(c) for c in str(body)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check == 10:
            continue
        i = len(out)
        out.append(
            {
                "bsn": f"{body}{check}",
                "achternaam": f"Leerling{i}",
                "voornamen": "Kim",
                "geboortedatum": f"2013-0{1 + i % 9}-1{i % 10}",
                "geslacht": "MV"[i % 2],
                "postcode": "9711AB",
            }
        )
    return out


def _leerling(p: dict[str, Any], postcode: str) -> dict[str, Any]:
    return {
        "bsn": p["bsn"],
        "geboortedatum": p["geboortedatum"],
        "geslacht": p["geslacht"],
        "postcode": postcode,
        "landcode": None,
    }


def _schools(revision: int) -> list[SchoolRegistration]:
    """The schools of prepare(), revised: 1 ends the 0090 licence of 02AB/01 and
    moves 01OE/01; 2 also closes 01OE/01."""
    lic = tuple(Licence(c, date(2020, 8, 1)) for c in ("0300", "0090"))
    cut = (
        Licence("0300", date(2020, 8, 1)),
        Licence("0090", date(2020, 8, 1), date(2026, 12, 31)),
    )
    hoofd = VestigingRegistration("00", "Hoofd", True, "9711AB", "GM0014", lic)
    moved = VestigingRegistration("01", "Dependance", False, "9713EF", "GM0014", lic)
    dep = VestigingRegistration("01", "Dependance", False, "9712CD", "GM0014", cut)
    return [
        SchoolRegistration(
            "01OE", "Een", "GM0014", (hoofd,) if revision >= 2 else (hoofd, moved)
        ),
        SchoolRegistration("02AB", "Twee", "GM0014", (hoofd, dep)),
    ]


def build_history(
    rt: Runtime, rng: random.Random, between: Callable[[], None] = lambda: None
) -> int:
    """Deliveries of random T/A/U/V/W records for 40 students at two schools over
    a term, with school revisions, the year's milestones of 01OE up to an
    assurance report with exclusions; `between` runs after every step. Returns
    the number of records delivered."""
    prepare(rt)
    people = persons(40)
    rt.population.load([PersonIn.model_validate(p) for p in people], utc(2026, 7, 1))
    postcodes = {p["bsn"]: p["postcode"] for p in people}
    periods: dict[tuple[str, str, str], dict[str, Any]] = {}  # sent T, not V
    numbers = dict.fromkeys(SCHOOLS, 0)
    delivered = 0

    def record(n: int, brin: str) -> dict[str, Any]:
        mine = [k for k in periods if k[1] == brin]
        roll = rng.random()
        if roll < 0.08:  # a change of key data (W)
            p = rng.choice(people)
            new = rng.choice(("9712CD", "9713EF", "9711AB"))
            old = postcodes[p["bsn"]]
            postcodes[p["bsn"]] = new
            change = {"oud": {"postcode": old}, "nieuw": {"postcode": new}}
            return rec(n, _leerling(p, old), "A", "W", None, change)
        if roll < 0.5 or not mine:
            p = rng.choice(people)
            key = (p["bsn"], brin, rng.choice(INGANG))
            terms = {
                "vestiging": rng.choice(("00", "01")),
                "ingangsdatum": key[2],
                "einddatum": rng.choice((None, None, None, *EIND)),
                "elementcode": rng.choice(("0300", "0090")),
                "leerjaar": rng.randint(1, 3),
                "jaren_pro": None,
            }
            periods[key] = terms
            return rec(n, _leerling(p, postcodes[key[0]]), "T", inschrijving=terms)
        key = rng.choice(mine)
        p = next(q for q in people if q["bsn"] == key[0])
        mutatie = rng.choice("AAUV")
        terms = dict(periods[key])
        if mutatie == "A":
            terms["elementcode"] = rng.choice(("0300", "0090"))
            terms["vestiging"] = rng.choice(("00", "01"))
            terms["einddatum"] = rng.choice((None, *EIND))
        elif mutatie == "U":
            terms["einddatum"] = rng.choice(EIND)
        if mutatie == "V":
            del periods[key]
        else:
            periods[key] = terms
        return rec(n, _leerling(p, postcodes[key[0]]), mutatie, inschrijving=terms)

    def deliver(brin: str, at: datetime) -> None:
        nonlocal delivered
        numbers[brin] += 1
        size = rng.randint(6, 24)
        recs = [record(i, brin) for i in range(1, size + 1)]
        rt.intake.submit(batch(*recs, number=numbers[brin], brin=brin), at)
        delivered += size
        between()

    start = utc(2026, 8, 17)
    milestones: dict[int, Callable[[datetime], Any]] = {
        3: lambda at: rt.registry.load_schools(_schools(1), at),
        6: lambda at: rt.registry.declare_complete("01OE", SJ, at),
        9: lambda at: rt.fotos.issue("voorlopig", "01OE", SJ, at),
        10: lambda at: rt.registry.load_schools(_schools(2), at),
        11: lambda at: rt.registry.stop_mutations("01OE", SJ, at),
        12: lambda at: rt.fotos.issue("actueel", "01OE", SJ, at),
        13: lambda at: rt.registry.report_assurance(
            "01OE",
            SJ,
            [],
            [
                {"leerling": {"bsn": p["bsn"]}, "reden": reden}
                for p, reden in zip(
                    people[:6], ("verzuim", "indicatie") * 3, strict=True
                )
            ],
            at,
        ),
    }
    for week in range(16):
        monday = start + timedelta(weeks=week)
        for day, brin in enumerate(SCHOOLS):
            # same-instant deliveries now and then: events sharing a timestamp
            at = monday + timedelta(days=day, hours=rng.choice((9, 9, 14)))
            deliver(brin, at)
            if rng.random() < 0.3:
                deliver(brin, at)
        if week in milestones:
            milestones[week](monday + timedelta(days=4))
            between()
    return delivered


# --- comparing schemas ---------------------------------------------------------


def tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "ORDER BY table_name",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def dump(url: str, schema: str) -> dict[str, list[str]]:
    """Every table of the schema, each row as canonical JSON, sorted."""
    with psycopg.connect(url) as conn:
        names = tables(conn, schema)
        assert {"periods", "students", "enrolments", "licences", "vestigingen"} <= set(
            names
        ) and "exclusions" in names
        return {
            name: [
                r[0]
                for r in conn.execute(
                    SQL("SELECT to_jsonb(t)::text AS j FROM {}.{} t ORDER BY j").format(
                        Identifier(schema), Identifier(name)
                    )
                ).fetchall()
            ]
            for name in names
        }


def position(url: str, schema: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT position FROM projection_tracking WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def settle(url: str) -> None:
    """Wait until the killed child's server process has finished: a COMMIT it
    sent just before the kill is applied after the client is gone, and the
    position read before it would lag the rows read after it."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(500):
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
            ).fetchone()
            if busy is not None and busy[0] == 0:
                return
            time.sleep(0.01)


def head(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT max(notification_id) FROM registry_events"
        ).fetchone()
    assert row is not None
    return int(row[0])


def build_upto(projector: Projector, upto: int, name: str) -> dict[str, list[str]]:
    """An uninterrupted build of the log up to `upto`, in one page."""
    projector.ensure(Timeline(), name, upto=upto)
    projector.catch_up(Timeline(), name)
    try:
        return dump(projector.conninfo, name)
    finally:
        projector.drop(name)


# --- the tests -------------------------------------------------------------------


def _kill_run(url: str, schema: str, rng: random.Random) -> tuple[str, int | None]:
    """One catch-up in a subprocess, killed: either inside the transaction of its
    k-th page, or at a random moment after its first page. Returns how, and the
    position that must then be committed: the one of page k-1 (None: random)."""
    inside = rng.random() < 0.5
    k = rng.randint(1, 6) if inside else 0
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, schema, "7", str(k)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        committed = position(url, schema)
        lines = 0
        while True:
            line = proc.stdout.readline()
            if not line or line.startswith("done"):
                assert proc.wait(timeout=30) == 0
                return "finished", None
            lines += 1
            if not inside:
                time.sleep(rng.uniform(0, 0.05))
                break
            if lines == k:
                break  # the child waits inside the k-th page's transaction
            committed = int(line.split()[0])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        return ("inside", committed) if inside else ("random", None)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_catch_up_killed_at_random_points_resumes_exactly(runtime: Runtime) -> None:
    rng = random.Random(SEED)
    delivered = build_history(runtime, rng)
    assert delivered >= 200
    url = runtime.database_url
    projector = Projector(url)
    projector.catch_up(Timeline())  # the live one, partly fed by the fotos
    projector.ensure(Timeline(), "p_timeline_check")
    projector.catch_up(Timeline(), "p_timeline_check")
    expected = dump(url, "p_timeline_check")
    assert len(expected["periods"]) > 100 and expected["exclusions"]

    killed = "p_timeline_killed"
    projector.ensure(Timeline(), killed)
    end = head(url)
    kills: list[tuple[str, int]] = []
    upto: dict[int, dict[str, list[str]]] = {}  # builds up to a position, reused
    while len(kills) < TRIALS:
        mode, committed = _kill_run(url, killed, rng)
        settle(url)
        reached = position(url, killed)
        if mode != "finished":
            if committed is not None:
                assert reached == committed, "a killed page was committed, or one lost"
            assert 0 <= reached <= end
            kills.append((mode, reached))
            # what was committed is exactly an uninterrupted build up to there
            if reached not in upto:
                upto[reached] = build_upto(projector, reached, "p_timeline_upto")
            got = dump(url, killed)
            assert got == upto[reached], (kills, len(upto))
        if mode == "finished" or reached == end:
            if len(kills) >= TRIALS:
                break
            projector.drop(killed)  # all done: again from the start
            projector.ensure(Timeline(), killed)
    assert sum(0 < p < end for _, p in kills) >= 3, kills
    assert {m for m, _ in kills} == {"inside", "random"}, kills
    report(
        "projection catch-up kill -9",
        kills=len(kills),
        inside_a_page=sum(m == "inside" for m, _ in kills),
        positions=len({p for _, p in kills}),
        events=end,
        lost=0,
        twice=0,
    )

    projector.catch_up(Timeline(), killed, page_size=7)
    assert position(url, killed) == end
    assert dump(url, killed) == expected
    assert dump(url, Timeline.schema()) == expected


def test_rebuild_equals_the_live_projection_fed_incrementally(
    runtime: Runtime,
) -> None:
    rng = random.Random(SEED + 1)
    projector = Projector(runtime.database_url)
    projector.ensure(Timeline())
    sizes: list[int] = []

    def catch_up() -> None:
        if rng.random() < 0.6:
            sizes.append(rng.choice((1, 2, 3, 7, 50, 2000)))
            projector.catch_up(Timeline(), page_size=sizes[-1])

    build_history(runtime, rng, between=catch_up)
    assert len(sizes) > 10
    projector.catch_up(Timeline(), page_size=5)
    live = dump(runtime.database_url, Timeline.schema())
    assert len(live["periods"]) > 100

    rebuilt = projector.rebuild(Timeline())
    assert rebuilt != Timeline.schema()
    assert projector.live_schema(Timeline.name) == rebuilt
    assert dump(runtime.database_url, rebuilt) == live


# The bulk build that gets killed: it reports every page it has folded; with a
# page number, it then waits inside that page for the kill.
BULK_CHILD = """
import sys, time
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline
url, schema, size, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pages = 0
def on_page(position, limit):
    global pages
    pages += 1
    print(position, limit, flush=True)
    if pages == stop_at:
        time.sleep(120)
Projector(url).build(Timeline(), schema, page_size=size, on_page=on_page)
print("done", flush=True)
"""


def _kill_build(url: str, schema: str, rng: random.Random) -> str:
    """One bulk build in a subprocess, killed inside its k-th page or at a
    random moment after its first (in the load, the index builds, or after)."""
    inside = rng.random() < 0.5
    k = rng.randint(1, 4) if inside else 0
    proc = subprocess.Popen(
        [sys.executable, "-c", BULK_CHILD, url, schema, "20", str(k)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for lines in itertools.count(1):
            line = proc.stdout.readline()
            if not line or line.startswith("done"):
                assert proc.wait(timeout=30) == 0
                return "finished"
            if not inside:
                time.sleep(rng.uniform(0, 0.3))
                break
            if lines == k:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return "inside" if inside else "random"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_killed_bulk_build_leaves_the_live_tables_and_starts_again(
    runtime: Runtime,
) -> None:
    rng = random.Random(SEED + 2)
    build_history(runtime, rng)
    url = runtime.database_url
    projector = Projector(url)
    live = runtime.catch_up()
    projector.ensure(Timeline(), "p_timeline_check")
    projector.catch_up(Timeline(), "p_timeline_check")
    expected = dump(url, "p_timeline_check")
    shown, tracked = dump(url, live), projector.status()
    killed, outcomes = "p_timeline_bulk_killed", []
    while len([o for o in outcomes if o != "finished"]) < max(3, TRIALS // 2):
        outcomes.append(_kill_build(url, killed, rng))
        settle(url)
        built = {s.schema: s for s in projector.status()}.get(killed)
        if outcomes[-1] == "finished" or built is not None:
            # Done before the kill came: tracked at the head, whole.
            assert built is not None and built.position == head(url)
            assert dump(url, killed) == expected
            projector.drop(killed)
        # The live tables saw nothing of it.
        assert projector.status() == tracked and dump(url, live) == shown
    assert {"inside", "random"} <= set(outcomes), outcomes
    report(
        "bulk build kill -9",
        kills=sum(o != "finished" for o in outcomes),
        inside_a_page=outcomes.count("inside"),
        finished_first=outcomes.count("finished"),
    )

    # What a kill left is dropped by the next build, which starts again.
    projector.build(Timeline(), killed, page_size=20)
    assert position(url, killed) == head(url)
    assert dump(url, killed) == expected
