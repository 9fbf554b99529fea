"""CBS: enrolment facts and foto extracts for statistics, under a pseudonym that
is CBS's own (no BSN, no name, no address)."""

from __future__ import annotations

from typing import Any, ClassVar

from psycopg import Cursor

from registry.domain.foto import FotoKind, student_number
from registry.projections.engine.event_log import Fact
from registry.projections.extracts.base import (
    Period,
    Recipient,
    foto_document,
    pseudonym,
)
from registry.projections.extracts.outbox import Message
from registry.projections.extracts.page_state import PageState, StudentRow
from registry.projections.extracts.payloads import CbsFoto, CbsInschrijving, Mutatie


class Cbs(Recipient):
    name: ClassVar[str] = "extract_cbs"
    # 2: students keep a linked BSN (one person, one history).
    # 3: message ids keyed with the recipient's key, not uuid5.
    version: ClassVar[int] = 3
    recipient: ClassVar[str] = "cbs"

    def on_mutation(
        self,
        curs: Cursor[Any],
        fact: Fact,
        mutatie: Mutatie,
        period: Period,
        state: PageState,
    ) -> list[Message]:
        who = pseudonym(self.key, period.student.number)
        payload: CbsInschrijving = {
            "pseudoniem": who,
            "mutatie": mutatie,
            "brin": period.brin,
            "vestiging": period.vestiging,
            "elementcode": period.elementcode,
            "leerjaar": period.leerjaar,
            "ingangsdatum": period.ingangsdatum.isoformat(),
            "einddatum": period.einddatum.isoformat() if period.einddatum else None,
            "geregistreerd_op": fact.recorded_at.isoformat(),
        }
        return [
            self.message(fact, "inschrijvingen", who, str(period.enrolment_id), payload)
        ]

    def on_forget(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow, state: PageState
    ) -> list[Message]:
        return self.forget_pseudonym(curs, fact, student, state)

    def on_foto(self, curs: Cursor[Any], fact: Fact, soort: FotoKind) -> list[Message]:
        doc = foto_document(curs, fact, soort)
        if doc is None:
            return []
        payload: CbsFoto = {
            "brin": doc["brin"],
            "schooljaar": doc["schooljaar"],
            "soort": soort.value,
            "versie": fact.data["foto"]["versie"],
            "peildatum": doc["peildatum"],
            "controletotaal": doc["controletotaal"],
            "bekostigd": doc["bekostigd"],
            "inschrijvingen": [
                {
                    "pseudoniem": pseudonym(
                        self.key,
                        student_number(e["leerling"]),
                    ),
                    "vestiging": e["vestiging"],
                    "elementcode": e["elementcode"],
                    "leerjaar": e["leerjaar"],
                    "bekostigd": e["bekostigd"],
                    "redenen": e["redenen"],
                }
                for e in doc["inschrijvingen"]
            ],
        }
        return [
            self.message(fact, "fotos", doc["brin"], f"{doc['brin']}/{soort}", payload)
        ]
