"""Fotos: count-date snapshots issued at the milestones of a school year.

A foto is the snapshot of 1 October as known when it is issued. Issuing records
the school year's event (which checks the milestone: voorlopig after the
completeness declaration, actueel at the mutation stop, definitief after the
assurance report) and stores the document, content-hashed, in the same
transaction. The event carries the log position the foto was derived at, so it
can be re-derived exactly at any later time and must give the same hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from registry.application.registry import Registry
from registry.domain.calendar import SchoolYearCalendar
from registry.infrastructure.pools import connect
from registry.projections.engine.runner import Projector
from registry.projections.queries.peiling import canonical, content_hash, snapshot
from registry.projections.timeline import Timeline

KINDS = ("voorlopig", "actueel", "definitief")
SCHEMA = """
CREATE TABLE IF NOT EXISTS fotos (
  brin text NOT NULL, schooljaar text NOT NULL, soort text NOT NULL,
  versie int NOT NULL, content_hash text NOT NULL, position bigint NOT NULL,
  stand_per timestamptz NOT NULL, document jsonb NOT NULL,
  PRIMARY KEY (brin, schooljaar, soort, versie));
"""
INSERT_FOTO = (
    "INSERT INTO fotos SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], "
    "%b::int[], %b::text[], %b::int8[], %b::timestamptz[], %b::jsonb[])"
)


class UnknownFoto(LookupError):
    pass


@dataclass(frozen=True)
class IssuedFoto:
    soort: str
    versie: int
    content_hash: str
    position: int
    stand_per: datetime
    document: dict[str, Any]


class Fotos:
    def __init__(self, registry: Registry, projector: Projector, url: str) -> None:
        self.registry = registry
        self.projector = projector
        self.url = url
        self._schema = Timeline.schema()
        with psycopg.connect(url) as conn:
            conn.execute(SCHEMA)

    @contextmanager
    def _timeline(self) -> Iterator[psycopg.Connection[Any]]:
        with connect(self.url) as conn:  # one transaction: SET LOCAL holds in it
            conn.execute(
                SQL("SET LOCAL search_path TO {}, public").format(
                    Identifier(self._schema)
                )
            )
            yield conn

    def catch_up(self) -> int:
        """Bring the timeline up to the head; return the position it reached."""
        self._schema = self.projector.fresh(Timeline())
        (status,) = [s for s in self.projector.status() if s.schema == self._schema]
        return status.position

    def issue(self, soort: str, brin: str, schooljaar: str, at: datetime) -> IssuedFoto:
        if soort not in KINDS:
            raise ValueError(f"soort {soort!r} is not one of {', '.join(KINDS)}")
        if soort == "actueel":
            self._default_stop(brin, schooljaar, at)
        position = self.catch_up()
        peildatum = SchoolYearCalendar.of(schooljaar).count_date
        with self._timeline() as conn:
            doc = snapshot(
                conn.cursor(), brin, schooljaar, peildatum, at, soort, position
            )
        year = self.registry.school_year(brin, schooljaar)
        versie = 1 + len(year.fotos.get(soort, [])) if year else 1
        text = canonical(doc)  # encoded once, for the hash and the stored copy
        digest = content_hash(doc, text)
        ref = {
            "versie": versie,
            "hash": digest,
            "positie": position,
            "stand_per": at.isoformat(),
            "peildatum": peildatum.isoformat(),
            "controletotaal": doc["controletotaal"],
            "bekostigd": doc["bekostigd"],
        }
        row = (
            brin,
            schooljaar,
            soort,
            versie,
            digest,
            position,
            at,
            Jsonb(doc, dumps=lambda _: text),
        )
        self.registry.record_foto(
            soort, brin, schooljaar, ref, at, side_writes=[(INSERT_FOTO, [row])]
        )
        return IssuedFoto(soort, versie, digest, position, at, doc)

    def _default_stop(self, brin: str, schooljaar: str, at: datetime) -> None:
        """From 1 June the stop holds without a request; record it before the
        actuele foto, which needs the stopped stage."""
        year = self.registry.school_year(brin, schooljaar)
        if year is None or year.stopped_on is not None:
            return
        if year.mutation_stop_in_effect(at.date()):
            self.registry.stop_mutations(brin, schooljaar, at, on_request=False)

    def stored(
        self, brin: str, schooljaar: str, soort: str, versie: int | None = None
    ) -> IssuedFoto:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT soort, versie, content_hash, position, stand_per, document "
                "FROM fotos WHERE brin = %s AND schooljaar = %s AND soort = %s "
                "AND (%s::int IS NULL OR versie = %s) ORDER BY versie DESC LIMIT 1",
                (brin, schooljaar, soort, versie, versie),
            ).fetchone()
        if row is None:
            which = f" versie {versie}" if versie else ""
            raise UnknownFoto(f"no {soort} foto{which} for {brin} {schooljaar}")
        return IssuedFoto(*row)

    def rederive(self, foto: IssuedFoto) -> dict[str, Any]:
        """The foto derived again from the log at the position it was issued at."""
        self.catch_up()
        d = foto.document
        peildatum = SchoolYearCalendar.of(d["schooljaar"]).count_date
        with self._timeline() as conn:
            return snapshot(
                conn.cursor(),
                d["brin"],
                d["schooljaar"],
                peildatum,
                foto.stand_per,
                foto.soort,
                foto.position,
            )

    def verify(self, foto: IssuedFoto) -> bool:
        return content_hash(self.rederive(foto)) == foto.content_hash
