"""Fotos: count-date snapshots issued at the milestones of a school year.

A foto is the snapshot of 1 October as known when it is issued. Issuing records
the school year's event (which checks the milestone: voorlopig after the
completeness declaration, actueel at the mutation stop, definitief after the
assurance report) and stores the document, content-hashed, in the same
transaction. The event carries the log position the foto was derived at, so it
can be re-derived exactly at any later time and must give the same hash.

The document is derived from the timeline projection, a layer above: the
composition root passes in a `Timeline` that waits for it and reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from psycopg.types.json import Jsonb

from registry.application.registry import Registry
from registry.domain.calendar import local_day
from registry.domain.foto import (
    FotoDocument,
    FotoKind,
    FotoRef,
    canonical,
    content_hash,
)
from registry.domain.school_year import SchoolYear
from registry.domain.signals import ListedSignal
from registry.infrastructure.pools import connect

DDL = """
CREATE TABLE IF NOT EXISTS fotos (
  brin text NOT NULL, schooljaar text NOT NULL, soort text NOT NULL,
  versie int NOT NULL, content_hash text NOT NULL, position bigint NOT NULL,
  stand_per timestamptz NOT NULL, document jsonb NOT NULL,
  PRIMARY KEY (brin, schooljaar, soort, versie));
ALTER TABLE fotos ADD COLUMN IF NOT EXISTS signalen jsonb;
"""
INSERT_FOTO = (
    "INSERT INTO fotos SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
    "%b::int[], %b::text[], %b::int8[], %b::timestamptz[], %b::jsonb[], %b::jsonb[])"
)
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


@dataclass(frozen=True)
class _Issued:
    foto: IssuedFoto
    ref: FotoRef  # what the school year's event records of it


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

    def create_tables(self) -> None:
        with connect(self.url) as conn:
            conn.execute(DDL)

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
        issued, row = self._derive(soort, year, at, position)
        year.record_snapshot(soort, issued.ref, at)
        self.registry.save_at(year, at=at, side_writes=[(INSERT_FOTO, [row])])
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
        issued, row = self._derive(FotoKind.ACTUEEL, year, at, position, signals)
        year.record_current_snapshot(issued.ref, at)
        self.registry.save_at(year, at=at, side_writes=[(INSERT_FOTO, [row])])
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
    ) -> tuple[_Issued, tuple[Any, ...]]:
        peildatum = year.calendar.count_date
        doc = self.timeline.derive(
            soort, year.brin, year.schooljaar, peildatum, at, position
        )
        versie = 1 + len(year.fotos.get(soort, []))
        text = canonical(doc)  # encoded once, for the hash and the stored copy
        digest = content_hash(doc, text)
        ref: FotoRef = {
            "versie": versie,
            "hash": digest,
            "positie": position,
            "stand_per": at.isoformat(),
            "peildatum": peildatum.isoformat(),
            "controletotaal": doc["controletotaal"],
            "bekostigd": doc["bekostigd"],
        }
        row = (
            year.brin,
            year.schooljaar,
            soort.value,
            versie,
            digest,
            position,
            at,
            Jsonb(doc, dumps=lambda _: text),
            None if signals is None else Jsonb(signals),
        )
        foto = IssuedFoto(soort, versie, digest, position, at, doc, signals)
        return _Issued(foto, ref), row

    def stored(
        self, brin: str, schooljaar: str, soort: FotoKind, versie: int | None = None
    ) -> IssuedFoto:
        soort = FotoKind(soort)
        with connect(self.url) as conn:
            row = conn.execute(
                "SELECT versie, content_hash, position, stand_per, document, signalen "
                "FROM fotos WHERE brin = %s AND schooljaar = %s AND soort = %s "
                "AND (%s::int IS NULL OR versie = %s) ORDER BY versie DESC LIMIT 1",
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

    def verify(self, foto: IssuedFoto) -> bool:
        return content_hash(self.rederive(foto)) == foto.content_hash
