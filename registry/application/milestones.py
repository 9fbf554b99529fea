"""The calendar of the yearly cycle, run for every school (domain.md steps
11–15): what is due by a time is done, once. Run it as often as you like; the
stages of the school years make it idempotent.

- the voorlopige foto on the first of 15 Nov, 29 Nov, 13 Dec and 4 Jan after the
  completeness declaration (never before the count date);
- the default mutation stop on 1 June, with its actuele foto and signal list,
  for every school not stopped on request;
- the definitieve foto on 21 July, for schools whose assurance report is in.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from registry.application.errors import ApplicationError
from registry.application.fotos import Fotos, IssuedFoto
from registry.application.registry import Registry
from registry.domain.calendar import local_day
from registry.domain.errors import DomainError
from registry.domain.foto import FotoKind
from registry.domain.school_year import BEFORE_STOP, SchoolYear, Stage
from registry.domain.values import Schooljaar

log = logging.getLogger(__name__)


@dataclass
class MilestoneReport:
    done: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)  # school, year: why
    issued: list[tuple[str, IssuedFoto]] = field(default_factory=list)


def due(year: SchoolYear, at: datetime) -> str | None:
    """The milestone of the school year due by `at`, if any."""
    day, calendar = local_day(at), year.calendar
    if year.stage is Stage.COMPLETENESS_DECLARED and year.declared_on is not None:
        dates = [d for d in calendar.provisional_snapshot_dates if d > year.declared_on]
        first = dates[0] if dates else calendar.default_mutation_stop
        if day >= max(first, calendar.count_date) and not year.mutation_stop_in_effect(
            day
        ):
            return "voorlopige foto"
    if year.stage in BEFORE_STOP and year.mutation_stop_in_effect(day):
        return "mutation stop"
    if year.stage is Stage.ASSURANCE_REPORTED and day >= calendar.final_snapshot:
        return "definitieve foto"
    return None


def run_milestones(
    registry: Registry, fotos: Fotos, at: datetime, workers: int = 1
) -> MilestoneReport:
    """Every milestone due by `at`, for every school, in the school year of `at`
    and the one before (a definitieve foto of July may be done in August).

    `workers` schools at a time: a school's milestones touch only its own
    school years, and a foto is derived at the log position it read, so what
    another school records meanwhile changes nothing in it. The report lists
    the schools in the same order whatever the number."""
    this = Schooljaar.containing(local_day(at))
    years = [str(Schooljaar.starting(this.start_year - 1)), str(this)]

    def school(brin: str) -> MilestoneReport:
        return _school(registry, fotos, brin, years, at)

    brins = registry.brins()
    if workers <= 1:
        done = list(map(school, brins))
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="milestones") as pool:
            done = list(pool.map(school, brins))
    report = MilestoneReport()
    for one in done:
        report.done.update(one.done)
        report.refused += one.refused
        report.issued += one.issued
    return report


def _school(
    registry: Registry, fotos: Fotos, brin: str, years: list[str], at: datetime
) -> MilestoneReport:
    report = MilestoneReport()
    for schooljaar in years:
        year = registry.school_year(brin, schooljaar)
        step = None if year is None else due(year, at)
        if step is None:
            continue
        try:
            report.issued.append((brin, _perform(fotos, step, brin, schooljaar, at)))
        except (DomainError, ApplicationError) as e:
            report.refused.append(f"{brin} {schooljaar} {step}: {e}")
            log.warning("milestone %s of %s %s refused: %s", step, brin, schooljaar, e)
            continue
        report.done[step] += 1
    return report


def _perform(
    fotos: Fotos, step: str, brin: str, schooljaar: str, at: datetime
) -> IssuedFoto:
    if step == "voorlopige foto":
        return fotos.issue(FotoKind.VOORLOPIG, brin, schooljaar, at)
    if step == "mutation stop":
        return fotos.stop(brin, schooljaar, at, on_request=False)
    return fotos.issue(FotoKind.DEFINITIEF, brin, schooljaar, at)

