"""SVB (child benefit): 16- and 17-year-olds whose enrolment started or ended,
by BSN, which the SVB is entitled to. Students without a BSN are not sent."""

from __future__ import annotations

from typing import Any, ClassVar

from psycopg import Cursor

from registry.projections.engine.event_log import Fact
from registry.projections.extracts.base import ExtractProjection, Period, age
from registry.projections.extracts.outbox import Message
from registry.projections.extracts.payloads import (
    Gebeurtenis,
    Mutatie,
    SvbKinderbijslag,
)


class Svb(ExtractProjection):
    name: ClassVar[str] = "extract_svb"
    # 2: students keep a linked BSN (one person, one history).
    version: ClassVar[int] = 2
    recipient: ClassVar[str] = "svb"

    def on_mutation(
        self, curs: Cursor[Any], fact: Fact, mutatie: Mutatie, period: Period
    ) -> list[Message]:
        bsn = period.student.bsn
        if bsn is None or mutatie not in ("T", "U", "V"):
            return []
        event: Gebeurtenis
        if mutatie == "T":
            event, day = "ingeschreven", period.ingangsdatum
        else:
            event, day = "uitgeschreven", period.einddatum or period.ingangsdatum
        years = age(period.student.geboortedatum, day)
        if years not in (16, 17):
            return []
        payload: SvbKinderbijslag = {
            "bsn": bsn,
            "gebeurtenis": event,
            "datum": day.isoformat(),
            "brin": period.brin,
            "leeftijd": years,
        }
        return [
            self.message(fact, "kinderbijslag", bsn, str(period.enrolment_id), payload)
        ]
