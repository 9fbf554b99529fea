"""Replay for an audit: rebuild a projection from the log as known at T in a
scratch schema and compare it with the live tables (or an issued foto). The
rebuild is projection work, so it lives here and not among the queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.application.fotos import IssuedFoto
from registry.domain import foto_proof
from registry.infrastructure.canonical import canonical_text
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import Projector
from registry.projections.queries.peiling import snapshot

SAMPLE = 10


def replay(
    projector: Projector,
    projection: Projection,
    until: datetime,
    *,
    keep: bool = False,
    foto: IssuedFoto | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    url = projector.conninfo
    position = projector.log.position_at(until)
    scratch = f"scratch_{projection.name}_{uuid.uuid4().hex[:8]}"
    try:
        events = projector.build(projection, scratch, upto=position, on_page=on_page)
        events += projector.catch_up(projection, scratch, on_page=on_page)
        report: dict[str, Any] = {
            "until": until.isoformat(),
            "position": position,
            "scratch": scratch,
            "events_read": events,
        }
        if foto is not None:
            report["foto"] = _against_foto(url, scratch, foto, position)
        else:
            live = projector.live_schema(projection.name)
            report["live"] = live
            report["differences"] = _compare(url, projection, live, scratch, position)
        return report
    finally:
        if not keep:
            projector.drop(scratch)


def _compare(
    url: str, projection: Projection, live: str, scratch: str, position: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        for table, select in projection.audit.items():
            a = _rows(conn, live, select, position)
            b = _rows(conn, scratch, select, position)
            only_live, only_replay = a - b, b - a
            if only_live or only_replay:
                out[table] = {
                    "only_live": len(only_live),
                    "only_replay": len(only_replay),
                    "sample_live": [
                        list(map(str, r)) for r in sorted(only_live, key=str)[:SAMPLE]
                    ],
                    "sample_replay": [
                        list(map(str, r)) for r in sorted(only_replay, key=str)[:SAMPLE]
                    ],
                }
    return out


def _rows(
    conn: psycopg.Connection[Any], schema: str, select: str, p: int
) -> set[tuple[Any, ...]]:
    with conn.transaction():
        conn.execute(
            SQL("SET LOCAL search_path TO {}, public").format(Identifier(schema))
        )
        return set(conn.execute(select.encode(), {"p": p}).fetchall())


def _against_foto(
    url: str, scratch: str, foto: IssuedFoto, position: int
) -> dict[str, Any]:
    if foto.position > position:
        return {
            "comparable": False,
            "reason": f"the foto was issued at position {foto.position}, after {position}",
        }
    d = foto.document
    with psycopg.connect(url) as conn:
        conn.execute(
            SQL("SET search_path TO {}, public; SET DateStyle = ISO").format(
                Identifier(scratch)
            )
        )
        again = snapshot(
            conn.cursor(),
            d["brin"],
            d["schooljaar"],
            date.fromisoformat(d["peildatum"]),
            foto.stand_per,
            foto.soort.value,
            foto.position,
        )
    checked = foto_proof.verify(
        foto.document, foto.proof, foto.content_hash, again, canonical_text
    )
    return {
        "comparable": True,
        "issued_hash": foto.content_hash,
        "hash_explained": checked.hash_explained,
        "same_content": checked.same_content,
        "vergeten": checked.vergeten,
        "equal": checked.ok,
    }
