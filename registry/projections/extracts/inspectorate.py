"""The Inspectorate: per school and vestiging, under its own pseudonym, with an
age (at the start of the quarter; on the peildatum for fotos) instead of a
birth date."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any, ClassVar

from psycopg import Cursor

from registry.domain.foto import FotoKind, student_number
from registry.projections.engine.event_log import Fact
from registry.projections.extracts.base import (
    DDL,
    Period,
    Recipient,
    age,
    foto_document,
    pseudonym,
    quarter_start,
)
from registry.projections.extracts.outbox import Message
from registry.projections.extracts.page_state import PageState, StudentRow
from registry.projections.extracts.payloads import (
    InspectieFoto,
    InspectieInschrijving,
    Mutatie,
)


class Inspectorate(Recipient):
    name: ClassVar[str] = "extract_inspectie"
    # 2: students keep a linked BSN (one person, one history).
    # 3: message ids keyed with the recipient's key, not uuid5.
    # 4: students indexed by number (a foto's birth dates).
    version: ClassVar[int] = 4
    recipient: ClassVar[str] = "inspectie"
    # A foto names its students by number: without the index each foto read
    # every student (a parallel scan of the whole table at national scale).
    ddl: ClassVar[str] = DDL + "CREATE INDEX students_number ON students (number);\n"

    def on_mutation(
        self,
        curs: Cursor[Any],
        fact: Fact,
        mutatie: Mutatie,
        period: Period,
        state: PageState,
    ) -> list[Message]:
        who = pseudonym(self.key, period.student.number)
        payload: InspectieInschrijving = {
            "pseudoniem": who,
            "mutatie": mutatie,
            "brin": period.brin,
            "vestiging": period.vestiging,
            "elementcode": period.elementcode,
            "leerjaar": period.leerjaar,
            "leeftijd": age(
                period.student.geboortedatum, quarter_start(fact.recorded_at)
            ),
            "ingangsdatum": period.ingangsdatum.isoformat(),
            "einddatum": period.einddatum.isoformat() if period.einddatum else None,
        }
        return [
            self.message(
                fact, "inschrijvingen", period.brin, str(period.enrolment_id), payload
            )
        ]

    def on_forget(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow, state: PageState
    ) -> list[Message]:
        return self.forget_pseudonym(curs, fact, student, state)

    def on_foto(self, curs: Cursor[Any], fact: Fact, soort: FotoKind) -> list[Message]:
        doc = foto_document(curs, fact, soort)
        if doc is None:
            return []
        peildatum = date.fromisoformat(doc["peildatum"])
        births = _births(
            curs,
            [student_number(e["leerling"]) for e in doc["inschrijvingen"]],
        )
        per_vestiging = Counter(
            e["vestiging"] for e in doc["inschrijvingen"] if e["bekostigd"]
        )
        payload: InspectieFoto = {
            "brin": doc["brin"],
            "schooljaar": doc["schooljaar"],
            "soort": soort.value,
            "versie": fact.data["foto"]["versie"],
            "peildatum": doc["peildatum"],
            "controletotaal": doc["controletotaal"],
            "bekostigd": doc["bekostigd"],
            "bekostigd_per_vestiging": dict(sorted(per_vestiging.items())),
            "inschrijvingen": [
                {
                    "pseudoniem": pseudonym(
                        self.key,
                        n := student_number(e["leerling"]),
                    ),
                    "vestiging": e["vestiging"],
                    "elementcode": e["elementcode"],
                    "leerjaar": e["leerjaar"],
                    "leeftijd": age(births.get(n), peildatum),
                    "bekostigd": e["bekostigd"],
                    "redenen": e["redenen"],
                }
                for e in doc["inschrijvingen"]
            ],
        }
        return [
            self.message(fact, "fotos", doc["brin"], f"{doc['brin']}/{soort}", payload)
        ]


def _births(curs: Cursor[Any], numbers: list[str]) -> dict[str, date]:
    rows = curs.execute(
        "SELECT number, geboortedatum FROM students WHERE number = ANY(%b)", (numbers,)
    ).fetchall()
    return {n: b for n, b in rows if b is not None}
