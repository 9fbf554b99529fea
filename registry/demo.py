"""`registry demo`: a small cycle of what the registry can do so far, on real
schools from the DUO list, on a fresh demo database and a simulated clock."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import psycopg
import pyotp
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr
from rich.console import Console
from rich.progress import track
from rich.table import Table

from registry.access.policy import Role
from registry.application.mutations import EnrolmentMutation
from registry.config import Settings
from registry.domain.enrolment import PeriodTerms, Source
from registry.domain.errors import DomainError, MutationRejected
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.domain.student import KeyData
from registry.domain.values import Bsn
from registry.runtime.bootstrap import Runtime, bootstrap
from registry.runtime.embedded_pg import EmbeddedPostgres

SJ = "2026-2027"
DEMO_DB = "registry_demo"
console = Console(stderr=True)


def _csv(name: str) -> list[dict[str, str]]:
    text = (
        resources.files("registry.domain").joinpath(f"data/{name}").read_text("utf-8")
    )
    return list(csv.DictReader(io.StringIO(text)))


def demo_schools(count: int = 24) -> list[SchoolRegistration]:
    """The first `count` BRIN of the real DUO list, with a postcode in their
    municipality and licences for HAVO/VWO programmes."""
    pc4 = {r["municipality_code"]: r["pc4"] for r in _csv("pc4_municipality.csv")}
    by_brin: dict[str, list[dict[str, str]]] = {}
    for row in _csv("schools.csv"):
        by_brin.setdefault(row["brin"], []).append(row)
    licences = tuple(Licence(c, date(2020, 8, 1)) for c in ("0100", "0200", "0300"))
    out = []
    for brin, rows in list(by_brin.items())[:count]:
        vestigingen = tuple(
            VestigingRegistration(
                r["vestigingsnummer"],
                r["name"][:80],
                i == 0,
                pc4[r["municipality_code"]] + "AB",
                r["municipality_code"],
                licences,
            )
            for i, r in enumerate(rows)
        )
        out.append(
            SchoolRegistration(
                brin, rows[0]["name"][:80], rows[0]["municipality_code"], vestigingen
            )
        )
    return out


def _fresh_database(settings: Settings) -> Settings:
    if settings.database_url is None:
        url = EmbeddedPostgres(settings.state_dir, keep_running=False).start()
    else:
        url = settings.database_url.get_secret_value()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DEMO_DB}")
    demo_url = make_conninfo(url, dbname=DEMO_DB)
    return settings.model_copy(
        update={"database_url": SecretStr(demo_url), "clock": "simulated"}
    )


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _try(label: str, action: Callable[[], Any]) -> str:
    try:
        action()
        return f"[green]accepted[/] {label}"
    except MutationRejected as e:
        return f"[red]rejected[/] {label}: " + ", ".join(e.codes)
    except DomainError as e:
        return f"[red]refused[/] {label}: {e}"


def _mutation(
    mutatie: str,
    sid: Any,
    brin: str,
    melding: int,
    *,
    leerjaar: int = 1,
    code: str = "0300",
    accountant: bool = False,
) -> EnrolmentMutation:
    return EnrolmentMutation(
        mutatie,
        sid,
        brin,
        date(2026, 8, 1),  # type: ignore[arg-type]
        Source(brin, 0, SJ, 1 if not accountant else 90, melding, accountant),
        PeriodTerms("00", code, leerjaar) if mutatie in ("T", "A") else None,
    )


def play(rt: Runtime) -> dict[str, Any]:
    reg = rt.registry
    at = lambda *d: datetime(*d, tzinfo=UTC)  # noqa: E731
    _step("1. Participation: real VO schools from the DUO list")
    schools = demo_schools()
    report = reg.load_schools(schools, at(2026, 7, 1))
    console.print(f"{report.registered} schools, {report.events} events")
    brin = schools[0].brin

    _step("2-3. Access: initial password, replaced at first login, TOTP second factor")
    creds = rt.access.add_user(
        f"admin{brin.lower()}", Role.SCHOOL, at(2026, 7, 1), brin=brin
    )
    totp = pyotp.TOTP(creds.totp_secret).at(at(2026, 7, 2))
    rt.access.change_password(
        creds.login, creds.initial_password, "demo-passphrase", totp, at(2026, 7, 2)
    )
    rt.access.login(creds.login, "demo-passphrase", totp, at(2026, 7, 2))
    console.print(f"{creds.login} logged in for BRIN {brin}")

    _step("4. Enrolments from 1 August (write-side rules)")
    students = []
    for i, bsn in enumerate(
        track(
            ("800000481", "800000122", "830000008"),
            description="students",
            console=console,
        )
    ):
        key = KeyData(date(2013, 5, 17 + i), "V", postcode="9700LC")
        students.append(reg.register_student(Bsn(bsn), key, at(2026, 8, 20)).id)
    outcomes = [
        _try(
            "T 0300 leerjaar 1",
            lambda: reg.record_mutation(
                _mutation("T", students[0], brin, 1), at(2026, 8, 20)
            ),
        ),
        _try(
            "T 0200 leerjaar 1",
            lambda: reg.record_mutation(
                _mutation("T", students[1], brin, 2, code="0200"), at(2026, 8, 20)
            ),
        ),
        _try(
            "T again (same period)",
            lambda: reg.record_mutation(
                _mutation("T", students[0], brin, 3), at(2026, 8, 20)
            ),
        ),
        _try(
            "T 0300 leerjaar 5 (not allowed)",
            lambda: reg.record_mutation(
                _mutation("T", students[2], brin, 4, leerjaar=5), at(2026, 8, 20)
            ),
        ),
        _try(
            "T elementcode 9999",
            lambda: reg.record_mutation(
                _mutation("T", students[2], brin, 5, code="9999"), at(2026, 8, 20)
            ),
        ),
    ]
    for line in outcomes:
        console.print(line)
    _step("10-12. Completeness declaration, mutation stop, accountant mutations")
    outcomes = [
        _try(
            "mutation stop before the voorlopige foto",
            lambda: reg.stop_mutations(brin, SJ, at(2026, 10, 2)),
        ),
        _try(
            "completeness declaration",
            lambda: reg.declare_complete(brin, SJ, at(2026, 10, 10)),
        ),
        _try(
            "accountant mutation before the stop",
            lambda: reg.record_mutation(
                _mutation("A", students[0], brin, 6, leerjaar=2, accountant=True),
                at(2026, 10, 11),
            ),
        ),
        _try(
            "regular A on 1 October data after 1 June",
            lambda: reg.record_mutation(
                _mutation("A", students[0], brin, 7, leerjaar=2), at(2027, 6, 2)
            ),
        ),
        _try(
            "accountant A after 1 June",
            lambda: reg.record_mutation(
                _mutation("A", students[0], brin, 8, leerjaar=2, accountant=True),
                at(2027, 6, 2),
            ),
        ),
    ]
    for line in outcomes:
        console.print(line)
    year = reg.school_year(brin, SJ)
    return {
        "schools": report.registered,
        "brin": brin,
        "stage": year.stage.value if year else None,
        "events": reg.recorder.max_notification_id(),
    }


def run_demo() -> None:
    settings = _fresh_database(Settings())
    with bootstrap(settings) as rt:
        summary = play(rt)
    # So `registry serve` and other commands can be pointed at the demo's data.
    summary["database_url"] = rt.database_url
    print(json.dumps(summary))  # noqa: T201 - the demo's result on stdout
    table = Table(title="registry demo")
    for k, v in summary.items():
        table.add_row(k, str(v))
    console.print(table)
    console.print(
        "The read side (fotos, snapshots) and publication come with later issues."
    )
