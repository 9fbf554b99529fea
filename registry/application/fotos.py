"""Fotos: count-date snapshots issued at the milestones of a school year.

A foto is the snapshot of 1 October as known when it is issued. Issuing records
the school year's event (which checks the milestone: voorlopig after the
completeness declaration, actueel at the mutation stop, definitief after the
assurance report) and stores the document, content-hashed, in the same
transaction. The event carries the log position the foto was derived at, so it
can be re-derived exactly at any later time and must give the same hash.

The document is derived from the timeline projection, a layer above: the
composition root passes in a `Timeline` that waits for it and reads it.

Fotos are hashed per entry with a salt kept beside the document (the proof,
domain/foto_proof.py), so that the entries of people forgotten later can be
redacted (`redact_forgotten`) and the issued hash still explained. Fotos issued
before keep their flat hash (scheme 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, Protocol
from uuid import UUID

from psycopg import Connection
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from registry.application.registry import Registry
from registry.domain import foto_proof, ids
from registry.domain.calendar import local_day
from registry.domain.foto import (
    FORGOTTEN_PREFIX,
    FotoDocument,
    FotoKind,
    FotoRef,
    LeerlingRef,
    content_hash,
)
from registry.domain.foto_proof import Proof, Verification
from registry.domain.school_year import SchoolYear
from registry.domain.signals import ListedSignal
from registry.infrastructure.canonical import canonical_text
from registry.infrastructure.jsonb import jsonb_text
from registry.infrastructure.person_keys import PERSON_KEYS_TABLE
from registry.infrastructure.pools import connect

INSERT_FOTO = (
    "INSERT INTO fotos SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
    "%b::int[], %b::text[], %b::int8[], %b::timestamptz[], %b::jsonb[], %b::jsonb[], "
    "%b::jsonb[])"
)
# A new version's rows are new (a race for the same version fails on the
# fotos row first): a plain insert, sorted, not one that checks each for a
# conflict. One row of parameters: the foto's key once (each a one-element
# array, as side writes pass columns) and its people as a 1×N array, which
# unnest reads in order; thousands of rows need not send the key each.
INSERT_PERSONS = (
    "INSERT INTO foto_persons SELECT (%b::text[])[1], (%b::text[])[1], "
    "(%b::text[])[1], (%b::int[])[1], unnest(%b::uuid[])"
)
_FORGOTTEN = SQL(
    "SELECT p.brin, p.schooljaar, p.soort, p.versie, array_agg(p.student_id) "
    "FROM foto_persons p JOIN {} k USING (student_id) "
    "WHERE k.key IS NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
).format(Identifier(PERSON_KEYS_TABLE))
_REDACTING = (
    "SELECT document, proof, content_hash FROM fotos "
    "WHERE brin = %s AND schooljaar = %s AND soort = %s AND versie = %s FOR UPDATE"
)
_REDACTED = (
    "UPDATE fotos SET document = %s, proof = %s "
    "WHERE brin = %s AND schooljaar = %s AND soort = %s AND versie = %s"
)
_UNLISTED = (
    "DELETE FROM foto_persons WHERE brin = %s AND schooljaar = %s AND soort = %s "
    "AND versie = %s AND student_id = ANY(%s)"
)
_FLAT = (
    "UPDATE fotos SET proof = %s "
    "WHERE brin = %s AND schooljaar = %s AND soort = %s AND versie = %s"
)
FLAT_PROOF: Proof = {"scheme": foto_proof.FLAT, "entries": []}
WAIT_SECONDS = 60.0


class UnknownFoto(LookupError):
    """No foto of that kind (and version) was issued."""


class Timeline(Protocol):
    """The enrolment timeline as a foto needs it."""

    def wait(self, position: int, timeout: float) -> None:
        """Return once the timeline has applied the log up to `position`."""
        ...

    def derive(
        self,
        soort: FotoKind,
        brin: str,
        schooljaar: str,
        peildatum: date,
        stand_per: datetime,
        position: int,
    ) -> FotoDocument:
        """The snapshot of the peildatum exactly as known at log `position`."""
        ...

    def signals(
        self, brin: str, schooljaar: str, stand_per: datetime
    ) -> list[ListedSignal]:
        """The school's attention signals as known at `stand_per`."""
        ...


@dataclass(frozen=True)
class IssuedFoto:
    soort: FotoKind
    versie: int
    content_hash: str
    position: int
    stand_per: datetime
    document: FotoDocument
    # Produced with the actuele foto at the mutation stop (domain.md step 12).
    signalen: list[ListedSignal] | None = None
    proof: Proof | None = None  # None: issued before proofs (scheme 1)


@dataclass(frozen=True)
class _Issued:
    foto: IssuedFoto
    ref: FotoRef  # what the school year's event records of it
    writes: list[tuple[str, list[tuple[Any, ...]]]]  # in the event's transaction


def _hashed(derived: FotoDocument) -> tuple[str, FotoDocument, Proof]:
    """The hash of a newly derived foto (scheme 2) and the document to store:
    a person forgotten before the foto is derived as `vergeten:<id>`, an id
    that names their number, and is stored redacted at once."""
    proof = foto_proof.new_proof(derived)
    digest = foto_proof.hash_of(derived, proof, canonical_text)
    assert digest is not None  # a scheme-2 proof always gives one
    doc, proof, _ = foto_proof.redact(derived, proof, lambda _: False)
    return digest, doc, proof


def _numbers(who: LeerlingRef) -> list[str]:
    numbers = (who["bsn"], who["onderwijsnummer"])
    return [n for n in numbers if n and not n.startswith(FORGOTTEN_PREFIX)]


def _ids(who: LeerlingRef, by_number: Mapping[str, UUID]) -> set[UUID]:
    """The streams an entry's numbers name (a person under an onderwijsnummer
    may show a linked BSN beside it, whose stream is theirs too)."""
    return {by_number[n] for n in _numbers(who) if n in by_number}


def _listed(doc: FotoDocument, by_number: Mapping[str, UUID]) -> set[UUID]:
    return {
        sid for e in doc["inschrijvingen"] for sid in _ids(e["leerling"], by_number)
    }


def _legacy_ids(doc: FotoDocument) -> dict[str, UUID]:
    """Fotos issued before foto_persons existed were issued while every
    student's id was a uuid5 of their number."""
    numbers = {n for e in doc["inschrijvingen"] for n in _numbers(e["leerling"])}
    return {n: ids.legacy_student_id(n) for n in numbers}


class Fotos:
    def __init__(
        self,
        registry: Registry,
        timeline: Timeline,
        url: str,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.registry = registry
        self.timeline = timeline
        self.url = url
        self.wait_seconds = wait_seconds

    def issue(
        self, soort: FotoKind, brin: str, schooljaar: str, at: datetime
    ) -> IssuedFoto:
        """A new version of the foto of its milestone. An actuele foto from 1 June
        of a school not stopped on request is the default stop's (see stop)."""
        soort = FotoKind(soort)
        year = self.registry.school_year(brin, schooljaar)
        if (
            soort is FotoKind.ACTUEEL
            and year is not None
            and year.stopped_on is None
            and year.mutation_stop_in_effect(local_day(at))
        ):
            return self.stop(brin, schooljaar, at, on_request=False)
        position = self._position()
        year = self.registry.school_year_for_update(brin, schooljaar, at)
        issued = self._derive(soort, year, at, position)
        year.record_snapshot(soort, issued.ref, at)
        self.registry.save_at(year, at=at, side_writes=issued.writes)
        return issued.foto

    def stop(
        self, brin: str, schooljaar: str, at: datetime, *, on_request: bool
    ) -> IssuedFoto:
        """The mutation stop (on request, or the default from 1 June) together
        with what it produces: the actuele foto and the school's signal list,
        recorded in one transaction (domain.md step 12)."""
        position = self._position()
        year = self.registry.school_year_for_update(brin, schooljaar, at)
        year.stop_mutations(at, on_request=on_request)  # refused before any work
        signals = self.timeline.signals(brin, schooljaar, at)
        issued = self._derive(FotoKind.ACTUEEL, year, at, position, signals)
        year.record_current_snapshot(issued.ref, at)
        self.registry.save_at(year, at=at, side_writes=issued.writes)
        return issued.foto

    def _position(self) -> int:
        """The log as far as it goes now, once the timeline has applied it."""
        position = self.registry.recorder.max_notification_id() or 0
        self.timeline.wait(position, self.wait_seconds)
        return position

    def _derive(
        self,
        soort: FotoKind,
        year: SchoolYear,
        at: datetime,
        position: int,
        signals: list[ListedSignal] | None = None,
    ) -> _Issued:
        peildatum = year.calendar.count_date
        derived = self.timeline.derive(
            soort, year.brin, year.schooljaar, peildatum, at, position
        )
        digest, doc, proof = _hashed(derived)
        versie = 1 + len(year.fotos.get(soort, []))
        ref: FotoRef = {
            "versie": versie,
            "hash": digest,
            "positie": position,
            "stand_per": at.isoformat(),
            "peildatum": peildatum.isoformat(),
            "controletotaal": doc["controletotaal"],
            "bekostigd": doc["bekostigd"],
        }
        key = (year.brin, year.schooljaar, soort.value, versie)
        row = (
            *key,
            digest,
            position,
            at,
            Jsonb(doc, dumps=jsonb_text),
            None if signals is None else Jsonb(signals),
            Jsonb(proof),
        )
        numbers = [n for e in doc["inschrijvingen"] for n in _numbers(e["leerling"])]
        # By the ids' integers: sorting UUIDs compares them in Python.
        listed = sorted(
            _listed(doc, self.registry.student_ids(numbers)), key=attrgetter("int")
        )
        persons = [(*key, [listed])] if listed else []
        foto = IssuedFoto(soort, versie, digest, position, at, doc, signals, proof)
        return _Issued(foto, ref, [(INSERT_FOTO, [row]), (INSERT_PERSONS, persons)])

    def stored(
        self, brin: str, schooljaar: str, soort: FotoKind, versie: int | None = None
    ) -> IssuedFoto:
        soort = FotoKind(soort)
        with connect(self.url) as conn:
            row = conn.execute(
                "SELECT versie, content_hash, position, stand_per, document, "
                "signalen, proof FROM fotos WHERE brin = %s AND schooljaar = %s "
                "AND soort = %s AND (%s::int IS NULL OR versie = %s) "
                "ORDER BY versie DESC LIMIT 1",
                (brin, schooljaar, soort.value, versie, versie),
            ).fetchone()
        if row is None:
            which = f" versie {versie}" if versie else ""
            raise UnknownFoto(f"no {soort} foto{which} for {brin} {schooljaar}")
        return IssuedFoto(soort, *row)

    def rederive(self, foto: IssuedFoto) -> FotoDocument:
        """The foto derived again from the log at the position it was issued at."""
        self.timeline.wait(foto.position, self.wait_seconds)
        d = foto.document
        peildatum = date.fromisoformat(d["peildatum"])
        return self.timeline.derive(
            foto.soort,
            d["brin"],
            d["schooljaar"],
            peildatum,
            foto.stand_per,
            foto.position,
        )

    def check(self, foto: IssuedFoto) -> Verification:
        """The issued foto against the hash in its event and against itself
        derived again, a person forgotten since as a redacted entry."""
        again = self.rederive(foto)
        return foto_proof.verify(
            foto.document, foto.proof, foto.content_hash, again, canonical_text
        )

    def verify(self, foto: IssuedFoto) -> bool:
        return self.check(foto).ok

    # Forgetting
    def redact_forgotten(self) -> int:
        """Redact, in every stored foto, the entries of everyone forgotten (key
        deleted); how many entries were redacted now. Idempotent, so it runs
        after each forgetting and picks up what an interrupted run left."""
        pending = self.registry.forgotten_numbers()
        with connect(self.url) as conn:
            self._list_flat(conn, pending)
            fotos = conn.execute(_FORGOTTEN).fetchall()  # in key order: no deadlock
            return sum(
                self._redact(conn, key, set(gone), pending) for *key, gone in fotos
            )

    def _redact(
        self,
        conn: Connection[Any],
        key: list[Any],
        gone: set[UUID],
        pending: Mapping[str, UUID],
    ) -> int:
        row = conn.execute(_REDACTING, key).fetchone()
        assert row is not None, f"foto_persons lists an unknown foto {key}"
        doc: FotoDocument = row[0]
        proof: Proof = row[1]
        issued: str = row[2]
        if proof["scheme"] == foto_proof.FLAT and "checked" not in proof:
            proof["checked"] = content_hash(doc) == issued  # the last chance
        names: set[UUID] = set(gone)
        by_number = _legacy_ids(doc) | dict(pending)

        def forgotten(who: LeerlingRef) -> bool:
            mine = _ids(who, by_number)
            names.update(mine if mine & gone else ())
            return bool(mine & gone)

        doc, proof, now = foto_proof.redact(doc, proof, forgotten)
        conn.execute(_REDACTED, [Jsonb(doc), Jsonb(proof), *key])
        conn.execute(_UNLISTED, [*key, list(names)])
        return now

    def _list_flat(
        self, conn: Connection[Any], pending: Mapping[str, UUID]
    ) -> None:
        """List the people of fotos issued before foto_persons existed (once)."""
        rows = conn.execute(
            "SELECT brin, schooljaar, soort, versie, document FROM fotos "
            "WHERE proof IS NULL FOR UPDATE"
        ).fetchall()
        for *key, doc in rows:
            # Issued while ids were uuid5s; whoever is still known (or
            # forgotten since, unswept) by the number table too.
            known = _legacy_ids(doc)
            known |= self.registry.student_ids(known) | {
                n: sid for n, sid in pending.items() if n in known
            }
            listed = [(*key, sid) for sid in _listed(doc, known)]
            with conn.cursor() as curs:
                curs.executemany(
                    "INSERT INTO foto_persons VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    listed,
                )
            conn.execute(_FLAT, [Jsonb(FLAT_PROOF), *key])
