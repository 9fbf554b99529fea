"""Forgetting reaches intake's own tables (docs/privacy.md): the stored feedback
of every batch, the records waiting on the population register, and the
onderwijsnummers issued on a name and birth date.

A sweep, not a step of each forgetting: a forgotten person's numbers cannot be
read from the log any more (their key is gone); the forgetting moved them to
`forgotten_numbers`, where they wait until this sweep and the fotos' have run
(`registry retention run` then deletes them). Every stored number is checked
against that table, so the sweep covers everyone forgotten since the last
completed run, whoever forgot them, is idempotent, and a run that a crash
interrupted is completed by the next one. Each page of batches is one transaction: a waiting record and its
feedback entry change together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from registry.domain.foto import LeerlingRef
from registry.domain.signals import CODES
from registry.infrastructure.pools import connect
from registry.infrastructure.student_numbers import PENDING_TABLE
from registry.intake.feedback import (
    FeedbackDocument,
    FeedbackEntry,
    FeedbackSignal,
    feedback_document,
    signal_entry,
)
from registry.intake.processor import FORGOTTEN
from registry.intake.wire import BatchKey

# What a forgotten person's number reads as in stored feedback: nothing of
# them, not even their student id (it would say which stream was theirs).
MARKER = "vergeten"
PAGE = 200  # batches a transaction

_FORGOTTEN = SQL("SELECT number FROM public.{} WHERE number = ANY(%s)").format(
    Identifier(PENDING_TABLE)
)
_BATCHES = (
    "SELECT brin, aanleverpunt, schooljaar, batchnummer, feedback FROM intake_batches "
    "WHERE (brin, aanleverpunt, schooljaar, batchnummer) > (%s, %s, %s, %s) "
    "ORDER BY brin, aanleverpunt, schooljaar, batchnummer LIMIT %s"
)
_UPDATE_FEEDBACK = (
    "UPDATE intake_batches SET feedback = %s WHERE brin = %s AND aanleverpunt = %s "
    "AND schooljaar = %s AND batchnummer = %s"
)
_DELETE_WAITING = (
    "DELETE FROM intake_waiting WHERE brin = %s AND aanleverpunt = %s "
    "AND schooljaar = %s AND batchnummer = %s AND meldingnummer = ANY(%s)"
)


def redact_forgotten(url: str) -> dict[str, int]:
    """Redact every forgotten person's entries; how many of each kind."""
    counts: Counter[str] = Counter()
    with connect(url) as conn:
        after: tuple[Any, ...] = ("", -1, "", -1)
        while page := conn.execute(_BATCHES, (*after, PAGE)).fetchall():
            counts.update(_redact_page(conn, page))
            conn.commit()
            after = tuple(page[-1][:4])
        counts["issued"] = _forget_issued(conn)
    return {k: counts[k] for k in ("feedback_entries", "waiting", "issued")}


def _redact_page(
    conn: psycopg.Connection[Any], page: list[tuple[Any, ...]]
) -> Counter[str]:
    documents = {BatchKey(*row[:4]): row[4] for row in page}
    numbers = {n for d in documents.values() for n in _numbers(d)}
    gone = _forgotten(conn, numbers)
    counts: Counter[str] = Counter()
    for key, document in documents.items():
        if not gone.intersection(_numbers(document)):
            continue
        entries, stopped = _redacted(document, gone)
        counts["feedback_entries"] += len(entries)
        counts["waiting"] += len(stopped)
        merged = {e["meldingnummer"]: e for e in document["meldingen"]} | entries
        new = feedback_document(key, list(merged.values()))
        conn.execute(_UPDATE_FEEDBACK, (Jsonb(new), *key))
        conn.execute(_DELETE_WAITING, (*key, stopped))
    return counts


def _redacted(
    document: FeedbackDocument, gone: set[str]
) -> tuple[dict[int, FeedbackEntry], list[int]]:
    """The entries to replace, by meldingnummer, and the waiting records that
    stop: they would be refused now (X107), so they are refused here."""
    entries: dict[int, FeedbackEntry] = {}
    stopped: list[int] = []
    for e in document["meldingen"]:
        if not gone.intersection(_leerling_numbers(e["leerling"])):
            continue
        signalen = [_neutral(s) for s in e["signalen"]]
        if e["status"] == "W":
            stopped.append(e["meldingnummer"])
            signalen = [signal_entry(FORGOTTEN)]
        entries[e["meldingnummer"]] = {
            "meldingnummer": e["meldingnummer"],
            "status": "A" if e["status"] == "W" else e["status"],
            "leerling": _marked(e["leerling"]),
            "signalen": signalen,
        }
    return entries, stopped


def _neutral(signal: FeedbackSignal) -> FeedbackSignal:
    """The code's own description: a text may name a birth date or part of a
    number (753, 755)."""
    code = signal["code"]
    return {"code": code, "ernst": signal["ernst"], "tekst": CODES[code][1]}


def _marked(who: LeerlingRef) -> LeerlingRef:
    return {
        "bsn": None if who["bsn"] is None else MARKER,
        "onderwijsnummer": None if who["onderwijsnummer"] is None else MARKER,
    }


def _leerling_numbers(who: LeerlingRef) -> set[str]:
    return {n for n in (who["bsn"], who["onderwijsnummer"]) if n and n != MARKER}


def _numbers(document: FeedbackDocument) -> set[str]:
    return {n for e in document["meldingen"] for n in _leerling_numbers(e["leerling"])}


def _forgotten(conn: psycopg.Connection[Any], numbers: Iterable[str]) -> set[str]:
    """The numbers whose student was forgotten (and not yet swept)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return set()
    return {r[0] for r in conn.execute(_FORGOTTEN, (wanted,)).fetchall()}


def _forget_issued(conn: psycopg.Connection[Any]) -> int:
    """Onderwijsnummers issued to people since forgotten: their name and birth
    date go (a later delivery of the name is a new person, 757)."""
    numbers = [r[0] for r in conn.execute("SELECT onderwijsnummer FROM intake_issued")]
    gone = _forgotten(conn, numbers)
    conn.execute(
        "DELETE FROM intake_issued WHERE onderwijsnummer = ANY(%s)", (sorted(gone),)
    )
    conn.commit()
    return len(gone)
