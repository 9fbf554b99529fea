"""`registry foto issue|show|verify|diff`: the count-date snapshots (fotos)."""

from __future__ import annotations

from typing import Any

import typer

from registry.application.fotos import IssuedFoto
from registry.bootstrap import Runtime
from registry.cli.common import (
    AtOption,
    emit,
    foto_kind,
    runtime,
    school_year_key,
    stored_foto,
    timeline_reading,
)
from registry.domain.calendar import SchoolYearCalendar
from registry.projections.queries import signals
from registry.projections.queries.diff import Side, diff

foto_app = typer.Typer(help="Count-date snapshots (fotos).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(foto_app, name="foto")


@foto_app.command("issue")
def foto_issue(soort: str, brin: str, schooljaar: str, at: AtOption = None) -> None:
    """Issue a voorlopig / actueel / definitief foto (printed as the document)."""
    kind = foto_kind(soort)
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        rt.catch_up()
        foto = rt.record(lambda t: rt.fotos.issue(kind, brin, schooljaar, t), at)
        emit(_shown(rt, foto))


@foto_app.command("show")
def foto_show(soort: str, brin: str, schooljaar: str) -> None:
    """Print an issued foto (SOORT or SOORT:VERSIE; the latest version by default)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        foto = stored_foto(rt, brin, schooljaar, soort)
        emit(_shown(rt, foto))


def _shown(rt: Runtime, foto: IssuedFoto) -> dict[str, Any]:
    """The document with its version and hash; an actuele foto with the school's
    signal list beside it (not part of the hashed document): the one produced at
    the stop, or, for a later version, as known at its stand_per."""
    extra: dict[str, Any] = {"versie": foto.versie, "hash": foto.content_hash}
    if foto.signalen is not None:
        extra["signalen"] = foto.signalen
    elif foto.soort == "actueel":
        d = foto.document
        with timeline_reading(rt) as r:
            extra["signalen"] = signals.current(
                r.cursor, d["brin"], d["schooljaar"], foto.stand_per
            )
    return foto.document | extra


@foto_app.command("verify")
def foto_verify(soort: str, brin: str, schooljaar: str) -> None:
    """Check an issued foto against its hash and against itself derived again
    from the log (a person forgotten since counts as a redacted entry); exit 1
    if either fails or the hash can no longer be checked."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        foto = stored_foto(rt, brin, schooljaar, soort)
        rt.catch_up()
        checked = rt.fotos.check(foto)
        emit(
            {
                "soort": foto.soort,
                "versie": foto.versie,
                "hash": foto.content_hash,
                "hash_scheme": checked.scheme,
                "hash_explained": checked.hash_explained,
                "same_content": checked.same_content,
                "vergeten": checked.vergeten,
                "equal": checked.ok,
            }
        )
        if not checked.ok:
            raise typer.Exit(1)


@foto_app.command("diff")
def foto_diff(van: str, naar: str, brin: str, schooljaar: str) -> None:
    """Who entered, left or changed verdict between two fotos (VAN and NAAR are
    SOORT[:VERSIE] or now)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt, timeline_reading(rt) as r:
        sides = [_side(rt, r.position, brin, schooljaar, w) for w in (van, naar)]
        peildatum = SchoolYearCalendar.of(schooljaar).count_date
        emit(diff(r.cursor, brin, schooljaar, peildatum, *sides))


def _side(rt: Runtime, now: int, brin: str, schooljaar: str, which: str) -> Side:
    if which == "now":
        return Side("now", rt.now(), now)
    foto = stored_foto(rt, brin, schooljaar, which)
    return Side(f"{foto.soort}:{foto.versie}", foto.stand_per, foto.position)
