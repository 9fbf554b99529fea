"""A school's funding statement from its issued fotos: the definitief foto, else
(provisionally) the voorlopig one, with the vestigingen as known at that foto's
log position (funding.py has the rule; this module finds its inputs)."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from registry.domain.foto import FotoKind
from registry.domain.funding import FundingError, funding_for_year

_LATEST = (
    "SELECT DISTINCT ON (soort) soort, position, document FROM fotos "
    "WHERE brin = %s AND schooljaar = %s AND soort IN ('voorlopig', 'definitief') "
    "ORDER BY soort, versie DESC"
)
_VESTIGINGEN = (
    "SELECT vestiging, hoofdvestiging FROM vestigingen WHERE brin = %s "
    "AND opened_by <= %s AND coalesce(closed_by, 9223372036854775807) > %s "
    "ORDER BY vestiging"
)


def statement(curs: Cursor[Any], brin: str, schooljaar: str) -> dict[str, Any]:
    """On a cursor reading the live timeline; raises FundingError when the school
    has no voorlopig or definitief foto."""
    fotos = {s: (p, d) for s, p, d in curs.execute(_LATEST, (brin, schooljaar))}
    chosen = FotoKind.DEFINITIEF if FotoKind.DEFINITIEF in fotos else FotoKind.VOORLOPIG
    if chosen not in fotos:
        raise FundingError(f"{brin} {schooljaar}: no definitief or voorlopig foto yet")
    position = fotos[chosen][0]
    vestigingen = curs.execute(_VESTIGINGEN, (brin, position, position)).fetchall()
    return funding_for_year({s: d for s, (_, d) in fotos.items()}, vestigingen)
