"""The national data set of the read-side benchmark, built once through the real
domain: every school of the reference table (638 BRIN, 1,619 vestigingen), N
students and their events over school year 2026-2027, saved with Registry.save_at
in one delivery per school per week, recorded times never decreasing.

Per student: Student.Registered and Enrolment.Registered from 1 August in the
school's first delivery (August to mid-September); then, each drawn on its own,
in this order over the year (share, weeks after 1 August):

   3 %  weeks  7-9   Deleted (wrong ingangsdatum), registered again from 1 September
  20 %  weeks 10-20  Amended (a corrected elementcode)
   5 %  weeks 10-20  Student.KeyDataChanged (moved house: a new postcode)
  20 %  weeks 21-30  Ended and registered again at the same school (other stream)
  10 %  weeks 31-44  Ended and registered at another school (moved school)
  25 %  weeks 47-51  Ended on 31 July (left after the exam year)

That is ~3.16 events a student: 960,000 students give ~3.03 M events. Every
elementcode used at a vestiging is licensed there from 2020-08-01.

The database `bench_national` (`bench_national_<N>` for another N) is reused when
its recorded size matches what is in it; --rebuild-data builds it again.

Usage: python bench/national.py [--students N] [--rebuild-data]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

import psycopg
from eventsourcing.domain import Aggregate
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from registry.bootstrap import bootstrap
from registry.config import Settings
from registry.domain.enrolment import Enrolment, PeriodTerms, Source
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.domain.school_year import SchoolYear
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.simulation.generator.cohort import capacities
from registry.simulation.generator.config import SCALES
from registry.simulation.generator.curriculum import (
    YEARS,
    Curriculum,
    birth_date,
    jaren_pro,
)
from registry.simulation.generator.people import PersonMaker
from registry.simulation.generator.reference import SchoolRef, Site, select

DBNAME = "bench_national"
DEFAULT_STUDENTS = 960_000
SJ = "2026-2027"
FIRST_DAY = date(2026, 8, 1)
LAST_DAY = date(2027, 7, 31)
REDELIVERED_FROM = date(2026, 9, 1)
SCHOOLS_AT = datetime(2026, 8, 1, tzinfo=UTC)
LICENCE_FROM = date(2020, 8, 1)
FIRST_WEEKS = 7  # a school's first delivery falls in one of the first 7 weeks
# story → (share of the students, first week, last week), planned in this order
STORIES = {
    "deleted": (0.03, 7, 9),
    "amended": (0.20, 10, 20),
    "key_changed": (0.05, 10, 20),
    "switched": (0.20, 21, 30),
    "moved": (0.10, 31, 44),
    "left": (0.25, 47, 51),
}
Key = tuple[str, date]  # an enrolment: (brin, ingangsdatum)


def delivery_at(week: int, school: int) -> datetime:
    """Week `week`'s delivery of school `school`: a Sunday, one minute apart."""
    return SCHOOLS_AT + timedelta(days=7 * week + 1, hours=8, minutes=school)


def week_day(week: int) -> date:
    return FIRST_DAY + timedelta(days=7 * week)


class Pupil:
    """A student while planning (current site, stream, code) and while writing
    (the aggregates its later actions change)."""

    __slots__ = (
        "birth",
        "bsn",
        "code",
        "enrolments",
        "key",
        "leerjaar",
        "pending",
        "postcode",
        "sex",
        "site",
        "stream",
        "student",
    )

    def __init__(self, bsn: str, birth: date, sex: str, postcode: str) -> None:
        self.bsn, self.birth, self.sex, self.postcode = bsn, birth, sex, postcode
        self.site: Site
        self.stream, self.leerjaar, self.code = "", 0, ""
        self.key: Key = ("", FIRST_DAY)
        self.pending = 0  # actions not yet written
        self.student: Student | None = None
        self.enrolments: dict[Key, Enrolment] = {}


@dataclass(slots=True)
class Action:
    """One record of a delivery: S(tudent), T, A, U, V, or W (key data)."""

    kind: str
    pupil: Pupil
    key: Key | None = None
    terms: PeriodTerms | None = None
    day: date | None = None
    postcode: str | None = None


@dataclass
class Plan:
    schools: list[SchoolRef]
    registrations: list[SchoolRegistration]
    deliveries: dict[tuple[int, int], list[Action]]
    students: int = 0
    expected_events: int = 0
    stories: dict[str, int] = field(default_factory=dict)


class Planner:
    """Draws the year: pupils per (site, stream) after the generator's national
    capacities, each pupil's stories, and the delivery each record goes in."""

    def __init__(self, students: int, seed: int) -> None:
        self.rng = Random(seed)
        self.target = students
        self.schools = select(SCALES["national"])
        self.curriculum = Curriculum(self.rng)
        self.maker = PersonMaker(self.rng)
        self.first_week = [self.rng.randrange(FIRST_WEEKS) for _ in self.schools]
        self.deliveries: dict[tuple[int, int], list[Action]] = defaultdict(list)
        self.used: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.by_stream: dict[str, list[Site]] = defaultdict(list)
        for school in self.schools:
            for site in school.sites:
                for stream in site.streams:
                    self.by_stream[stream].append(site)
        self.counts: dict[str, int] = dict.fromkeys(STORIES, 0)
        self.pupils = 0

    def plan(self) -> Plan:
        scale = SCALES["national"]
        caps = iter(capacities(self.rng, self.schools, scale))
        factor = self.target / scale.students
        sites = [
            (site, s) for sc in self.schools for site in sc.sites for s in site.streams
        ]
        for site, stream in sites:
            for _ in range(int(next(caps) * factor + self.rng.random())):
                self._pupil(site, stream)
        records = sum(len(actions) for actions in self.deliveries.values())
        return Plan(
            self.schools,
            self._registrations(),
            dict(self.deliveries),
            self.pupils,
            records,
            self.counts,
        )

    def _add(self, week: int, school: int, action: Action) -> None:
        self.deliveries[week, school].append(action)
        action.pupil.pending += 1

    def _pupil(self, site: Site, stream: str) -> None:
        r = self.rng.random
        years = YEARS[stream]
        leerjaar = years[int(r() * len(years))]
        sex = "M" if r() < 0.5 else "V"
        postcode = self.maker.postcode(site.gemeente)
        p = Pupil(self.maker.bsn(), birth_date(self.rng, leerjaar), sex, postcode)
        week = self.first_week[site.school]
        self._add(week, site.school, Action("S", p, postcode=postcode))
        self._register(p, week, site, stream, leerjaar, FIRST_DAY)
        self.pupils += 1
        for story, (share, first, last) in STORIES.items():
            if r() < share:
                getattr(self, f"_{story}")(p, self.rng.randint(first, last))
                self.counts[story] += 1

    def _register(
        self, p: Pupil, week: int, site: Site, stream: str, leerjaar: int, start: date
    ) -> None:
        code = self.curriculum.code(site, stream, leerjaar)
        p.site, p.stream, p.leerjaar, p.code = site, stream, leerjaar, code
        p.key = (site.brin, start)
        self.used[site.brin, site.vestiging].add(code)
        terms = PeriodTerms(site.vestiging, code, leerjaar, jaren_pro(code, leerjaar))
        self._add(week, site.school, Action("T", p, p.key, terms))

    def _end(self, p: Pupil, week: int, day: date) -> None:
        self._add(week, p.site.school, Action("U", p, p.key, day=day))

    def _deleted(self, p: Pupil, week: int) -> None:
        self._add(week, p.site.school, Action("V", p, p.key))
        self._register(p, week, p.site, p.stream, p.leerjaar, REDELIVERED_FROM)

    def _amended(self, p: Pupil, week: int) -> None:
        p.code = self.curriculum.code(p.site, p.stream, p.leerjaar)
        self.used[p.site.brin, p.site.vestiging].add(p.code)
        terms = PeriodTerms(
            p.site.vestiging, p.code, p.leerjaar, jaren_pro(p.code, p.leerjaar)
        )
        self._add(week, p.site.school, Action("A", p, p.key, terms))

    def _key_changed(self, p: Pupil, week: int) -> None:
        p.postcode = self.maker.postcode(p.site.gemeente, avoid=p.postcode)
        self._add(week, p.site.school, Action("W", p, postcode=p.postcode))

    def _switched(self, p: Pupil, week: int) -> None:
        others = [s for s in p.site.streams if s != p.stream and p.leerjaar in YEARS[s]]
        stream = others[int(self.rng.random() * len(others))] if others else p.stream
        end = week_day(week) - timedelta(days=1)
        self._end(p, week, end)
        self._register(p, week, p.site, stream, p.leerjaar, end + timedelta(days=1))

    def _moved(self, p: Pupil, week: int) -> None:
        site = self._other_school(p)
        if site is None:
            return
        end = week_day(week) - timedelta(days=1)
        self._end(p, week, end)
        self._register(p, week, site, p.stream, p.leerjaar, end + timedelta(days=1))

    def _other_school(self, p: Pupil) -> Site | None:
        """A random vestiging of another school that teaches the pupil's stream."""
        sites = self.by_stream[p.stream]
        for _ in range(20):
            site = sites[int(self.rng.random() * len(sites))]
            if site.school != p.site.school:
                return site
        return None

    def _left(self, p: Pupil, week: int) -> None:
        self._end(p, week, LAST_DAY)

    def _registrations(self) -> list[SchoolRegistration]:
        out = []
        for school in self.schools:
            main = school.hoofdvestiging
            vestigingen = tuple(
                VestigingRegistration(
                    site.vestiging,
                    site.naam,
                    site is main,
                    self.maker.postcode(site.gemeente),
                    site.gemeente,
                    tuple(
                        Licence(code, LICENCE_FROM)
                        for code in sorted(self.used[site.brin, site.vestiging])
                    ),
                )
                for site in school.sites
            )
            out.append(
                SchoolRegistration(school.brin, main.naam, main.gemeente, vestigingen)
            )
        return out


class Delivery:
    """One school's delivery of one week: its records applied to the aggregates,
    every event carrying the delivery's recorded time."""

    def __init__(self, week: int, brin: str, at: datetime, opens_year: bool) -> None:
        self.week, self.brin, self.at = week, brin, at
        self.touched: dict[Any, Aggregate] = {}
        if opens_year:
            year = SchoolYear.open(brin, SJ, at)
            self.touched[year.id] = year

    def apply(self, actions: list[Action]) -> list[Aggregate]:
        for melding, action in enumerate(actions, 1):
            aggregate = self._apply(
                action, Source(self.brin, 0, SJ, self.week + 1, melding)
            )
            self.touched[aggregate.id] = aggregate
            self._done(action.pupil)
        return list(self.touched.values())

    def _apply(self, a: Action, source: Source) -> Aggregate:
        p, at = a.pupil, self.at
        if a.kind == "S":
            key = KeyData(p.birth, p.sex, postcode=a.postcode)
            p.student = Student.register(Bsn(p.bsn), key, at)
            return p.student
        if a.kind == "W":
            assert p.student is not None
            old = {"postcode": p.student.key["postcode"]}
            p.student.change_key_data(
                old, {"postcode": a.postcode}, source.as_event(), at
            )
            return p.student
        assert a.key is not None
        if a.kind == "T":
            assert a.terms is not None
            assert p.student is not None  # registered by its S, still pending
            sid = p.student.id
            enrolment = Enrolment.register(sid, a.key[0], a.key[1], a.terms, source, at)
            p.enrolments[a.key] = enrolment
            return enrolment
        enrolment = p.enrolments[a.key]
        if a.kind == "A":
            assert a.terms is not None
            enrolment.amend(a.terms, source, at)
        elif a.kind == "U":
            assert a.day is not None
            enrolment.end(a.day, source, at)
        else:
            enrolment.delete(source, at)
        return enrolment

    @staticmethod
    def _done(p: Pupil) -> None:
        p.pending -= 1
        if p.pending == 0:  # free the aggregates of pupils with nothing to come
            p.student, p.enrolments = None, {}


def write(url: str, plan: Plan) -> None:
    """Schools at 1 August, then every delivery in recorded-time order."""
    settings = Settings(database_url=SecretStr(url), clock="simulated")
    with bootstrap(settings) as rt:
        rt.registry.load_schools(plan.registrations, SCHOOLS_AT)
        opened: set[int] = set()
        keys = sorted(plan.deliveries)
        for i, (week, school) in enumerate(keys):
            at = delivery_at(week, school)
            delivery = Delivery(
                week, plan.schools[school].brin, at, school not in opened
            )
            opened.add(school)
            aggregates = delivery.apply(plan.deliveries.pop((week, school)))
            rt.registry.save_in_batches(aggregates, at, 1000)
            if i % 2000 == 0:
                print(
                    f"  … delivery {i:,} of {len(keys):,} ({at:%Y-%m-%d})",
                    file=sys.stderr,
                )


def database_name(students: int) -> str:
    return DBNAME if students == DEFAULT_STUDENTS else f"{DBNAME}_{students}"


def recorded_size(server_url: str, name: str) -> tuple[int, int] | None:
    """(students, events) recorded when the data set was built, when they still
    match what is in the database; None when missing, partial or changed."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone():
            return None
    with psycopg.connect(make_conninfo(server_url, dbname=name)) as conn:
        if not conn.execute("SELECT to_regclass('bench_dataset')").fetchone()[0]:  # type: ignore[index]
            return None
        row = conn.execute("SELECT students, events FROM bench_dataset").fetchone()
        count = conn.execute("SELECT count(*) FROM registry_events").fetchone()
    if row is None or count is None or count[0] != row[1]:
        return None
    return int(row[0]), int(row[1])


def build(server_url: str, name: str, students: int, seed: int = 2026) -> float:
    """Drop and build the data set; the seconds it took."""
    start = time.perf_counter()
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(server_url, dbname=name)
    gc.disable()  # millions of long-lived objects: the collector would rescan them
    try:
        plan = Planner(students, seed).plan()
        print(
            f"  planned {plan.students:,} students, {plan.expected_events:,} records, "
            f"stories {plan.stories}",
            file=sys.stderr,
        )
        write(url, plan)
    finally:
        gc.enable()
    seconds = time.perf_counter() - start
    with psycopg.connect(url) as conn:
        events = conn.execute("SELECT count(*) FROM registry_events").fetchone()[0]  # type: ignore[index]
        conn.execute(
            "CREATE TABLE bench_dataset (students int, events bigint, seed int, "
            "seconds double precision, built_at timestamptz DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO bench_dataset (students, events, seed, seconds) VALUES (%s, %s, %s, %s)",
            (plan.students, events, seed, seconds),
        )
    return seconds


def ensure(server_url: str, students: int, rebuild: bool = False) -> tuple[str, str]:
    """The data set's URL and a line saying whether it was built or reused."""
    name = database_name(students)
    url = make_conninfo(server_url, dbname=name)
    size = None if rebuild else recorded_size(server_url, name)
    if size is not None:
        return url, f"data set {name} reused: {size[0]:,} students, {size[1]:,} events"
    print(f"building data set {name} ({students:,} students) …", file=sys.stderr)
    seconds = build(server_url, name, students)
    size = recorded_size(server_url, name)
    assert size is not None
    return url, (
        f"data set {name} built in {seconds:,.0f} s: "
        f"{size[0]:,} students, {size[1]:,} events"
    )


def server() -> tuple[str, EmbeddedPostgres | None]:
    """The configured server, or the embedded one (started when not running)."""
    settings = Settings()
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), None
    embedded = EmbeddedPostgres(settings.state_dir)
    return embedded.start(), embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=DEFAULT_STUDENTS)
    parser.add_argument("--rebuild-data", action="store_true")
    args = parser.parse_args()
    url, embedded = server()
    try:
        print(ensure(url, args.students, args.rebuild_data)[1])
    finally:
        if embedded:
            embedded.stop()


if __name__ == "__main__":
    main()
