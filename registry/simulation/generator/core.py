"""`generate(seed, scale, out)`: the whole synthetic school year 2026-2027."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

from registry.simulation.generator import output
from registry.simulation.generator.batches import ACCOUNTANT, Batch, plan
from registry.simulation.generator.closing import Closing, used_codes
from registry.simulation.generator.cohort import Cohort, Pupil
from registry.simulation.generator.config import SCALES, SCHOOLJAAR, Scale, planted
from registry.simulation.generator.curriculum import Curriculum
from registry.simulation.generator.identities import IdentityPlanter
from registry.simulation.generator.orderings import YearPlanter
from registry.simulation.generator.people import PersonMaker
from registry.simulation.generator.picking import Item, Picker
from registry.simulation.generator.records import Judge
from registry.simulation.generator.reference import SchoolRef, select
from registry.simulation.generator.schedule import Cycle, Op, fixed_ops, school_ops
from registry.simulation.generator.writer import BatchWriter, Tally


@dataclass
class Year:
    scale: Scale
    schools: list[SchoolRef]
    maker: PersonMaker
    cohort: Cohort
    items: list[Item]
    licences: dict[tuple[str, str], list[str]]
    exclusions: list[tuple[Pupil, str]]
    planted: dict[str, int]


def build(rng: Random, scale: Scale) -> Year:
    """Students, persons and every planted case, in a fixed order of draws."""
    schools = select(scale)
    maker = PersonMaker(rng)
    cohort = Cohort(rng, maker, Curriculum(rng))
    cohort.enrol_all(schools, scale)
    picker = Picker(rng, cohort.pupils)
    identities = IdentityPlanter(rng, picker, maker)
    identities.plant(scale)
    events = YearPlanter(rng, picker, cohort, schools)
    events.plant(scale)
    events.corrected_typos(cohort.pupils)
    closing = Closing(rng, picker, cohort.curriculum)
    used = used_codes(cohort.pupils, events.items)
    unlicensed = closing.plant_unlicensed(planted(scale, "unlicensed"), used)
    year_end = closing.year_end(cohort.pupils)
    exclusions = closing.exclusions(planted(scale, "exclusions"))
    cohort.add_others(scale)
    counts = identities.counts | events.counts
    counts |= {"unlicensed": unlicensed, "year_end_leavers": len(year_end)}
    counts["exclusions"] = len(exclusions)
    licences = closing.licences(cohort.pupils, events.items)
    items = events.items + year_end
    return Year(scale, schools, maker, cohort, items, licences, exclusions, counts)


def write_batches(out: Path, year: Year, batches: list[Batch]) -> Tally:
    writer = BatchWriter(out, Judge(year.licences))
    for batch in batches:
        writer.write(batch)
    return writer.tally


def submit_ops(batches: list[Batch]) -> list[Op]:
    ops: list[Op] = []
    for batch in batches:
        body: dict[str, Any] = {"op": "submit", "file": batch.file}
        if batch.role != "normal":
            body["expect"] = batch.role
        ops.append((batch.at, body))
    return ops


def accountant_numbers(batches: list[Batch]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for b in batches:
        if b.soort == ACCOUNTANT and b.role == "normal" and b.schooljaar == SCHOOLJAAR:
            found.setdefault(b.school.index, []).append(b.batchnummer)
    return found


def expected(
    seed: int, year: Year, batches: list[Batch], tally: Tally, cycle: Cycle
) -> dict[str, Any]:
    signals = {code: tally.signals.get(code, 0) for code in output.SIGNALS}
    signals |= {c: n for c, n in sorted(tally.signals.items()) if c not in signals}
    n = len(year.schools)
    declarations = {
        "on_time": n - len(cycle.late) - len(cycle.never),
        "late": len(cycle.late),
        "never": len(cycle.never),
    }
    accountant = sum(len(v) for v in accountant_numbers(batches).values())
    return {
        "seed": seed,
        "scale": year.scale.name,
        "schools": n,
        "vestigingen": sum(len(s.sites) for s in year.schools),
        "persons": sum(1 for p in year.cohort.persons if p.in_register),
        "students": len(year.cohort.pupils),
        "batches": len(batches),
        "records": tally.records,
        "refused_batches": sum(1 for b in batches if b.role == "refused"),
        "redeliveries": sum(1 for b in batches if b.role == "redelivery"),
        "final_status": {"G": tally.status["G"], "A": tally.status["A"], "W": 0},
        "signals": signals,
        "waiting_before_retry": tally.waited,
        "planted": year.planted
        | {
            "declarations": declarations,
            "mutation_stops_on_request": len(cycle.on_request),
            "accountant_batches": accountant,
        },
    }


def generate(
    seed: int, scale: str, out: Path, ready: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Write the year under `out/` and return the expected outcome (also written
    to `out/expected.json`). Same seed and scale ⇒ byte-identical files.

    `ready` is called once the schools, the register and the schedule are
    written, before the batches: a player can load the first two while the
    batches are written, and must wait for the return before a submit."""
    rng = Random(seed)  # noqa: S311 -- synthetic data: seeded and reproducible
    year = build(rng, SCALES[scale])
    output.prepare(out)
    batches = plan(year.schools, year.cohort.pupils, year.items)
    lines = output.school_lines(year.schools, year.maker, year.licences)
    output.write_lines(out / "schools.jsonl", lines)
    persons = output.population_lines(year.cohort.persons)
    output.write_lines(out / "population.jsonl", persons)
    files = output.write_exclusions(out, year.schools, year.exclusions)
    ops, cycle = school_ops(rng, year.schools, accountant_numbers(batches), files)
    output.write_schedule(
        out / "schedule.jsonl", fixed_ops() + submit_ops(batches) + ops
    )
    if ready is not None:
        ready()
    # The batches use no randomness: written last, their files are the same.
    tally = write_batches(out, year, batches)
    result = expected(seed, year, batches, tally, cycle)
    output.write_expected(out / "expected.json", result)
    return result
