"""A school's funding statement from its issued fotos: the definitief foto, else
(provisionally) the voorlopig one, with the vestigingen as known at that foto's
log position (funding.py has the rule; this module finds its inputs)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from registry.domain.funding import FundingError, funding_for_year
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline

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


def statement(
    projector: Projector, url: str, brin: str, schooljaar: str
) -> dict[str, Any]:
    """Raises FundingError when the school has no voorlopig or definitief foto."""
    schema = projector.fresh(Timeline())
    with psycopg.connect(url) as conn:
        conn.execute(SQL("SET search_path TO {}, public").format(Identifier(schema)))
        return statement_on(conn.cursor(), brin, schooljaar)


def statement_on(curs: Cursor[Any], brin: str, schooljaar: str) -> dict[str, Any]:
    """`statement` on a cursor whose search path holds a fresh timeline."""
    fotos = {s: (p, d) for s, p, d in curs.execute(_LATEST, (brin, schooljaar))}
    chosen = "definitief" if "definitief" in fotos else "voorlopig"
    if chosen not in fotos:
        raise FundingError(f"{brin} {schooljaar}: no definitief or voorlopig foto yet")
    position = fotos[chosen][0]
    vestigingen = curs.execute(_VESTIGINGEN, (brin, position, position)).fetchall()
    return funding_for_year({s: d for s, (_, d) in fotos.items()}, vestigingen)
