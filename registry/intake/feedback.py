"""The feedback document, `bron-vo-terugkoppeling/1` (contract.md): a batch's
records, each with its status, the student's numbers and its signals, and how
many records have each status."""

from __future__ import annotations

from collections import Counter
from typing import Literal, TypedDict

from registry.domain.foto import LeerlingRef
from registry.domain.signals import Ernst, Signal
from registry.intake.wire import BatchKey

FEEDBACK_FORMAT = "bron-vo-terugkoppeling/1"

# G accepted, A rejected (nothing recorded), W waiting on the population register
Status = Literal["G", "A", "W"]


class FeedbackSignal(TypedDict):
    code: str
    ernst: Ernst
    tekst: str


class FeedbackEntry(TypedDict):
    """A record's verdict (a `meldingen` entry); `leerling` as delivered, or
    with the number the registry found or issued."""

    meldingnummer: int
    status: Status
    leerling: LeerlingRef
    signalen: list[FeedbackSignal]


class FeedbackDocument(TypedDict):
    format: str
    brin: str
    aanleverpunt: int
    batchnummer: int
    schooljaar: str
    ontvangen: int
    goedgekeurd: int
    afgekeurd: int
    wachtend: int
    meldingen: list[FeedbackEntry]


def signal_entry(signal: Signal) -> FeedbackSignal:
    return {"code": signal.code, "ernst": signal.ernst, "tekst": signal.text}


def feedback_document(key: BatchKey, entries: list[FeedbackEntry]) -> FeedbackDocument:
    entries = sorted(entries, key=lambda e: e["meldingnummer"])
    status = Counter(e["status"] for e in entries)
    return {
        "format": FEEDBACK_FORMAT,
        "brin": key.brin,
        "aanleverpunt": key.aanleverpunt,
        "batchnummer": key.batchnummer,
        "schooljaar": key.schooljaar,
        "ontvangen": len(entries),
        "goedgekeurd": status["G"],
        "afgekeurd": status["A"],
        "wachtend": status["W"],
        "meldingen": entries,
    }
