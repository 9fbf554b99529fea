"""The reference files, exclusions, schedule and expected outcome under `out/`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import LICENCE_FROM
from registry.simulation.generator.people import Person, PersonMaker
from registry.simulation.generator.reference import SchoolRef, Site
from registry.simulation.generator.schedule import Op
from registry.simulation.generator.timeline import iso

SIGNALS = ("753", "755", "757", "770", "956", "X121", "X130", "X131", "X132", "X150")


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 as it is, written by orjson (a million lines a
    national year). For the strings, whole numbers, booleans, nulls, lists and
    string-keyed objects the generator makes, these are the bytes of
    `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`; what
    orjson refuses (a key that is not a string, an integer past 64 bits, a
    lone surrogate) `json` writes so. Not jsonb_text: its fallback need only
    parse, and these files' bytes are compared (same seed, same files)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def prepare(out: Path) -> None:
    """Create `out/` and remove batch and exclusion files of an earlier run."""
    for folder, pattern in (("batches", "*.json"), ("exclusions", "*.jsonl")):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for stale in sorted((out / folder).glob(pattern)):
            stale.unlink()


def write_lines(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(dumps(row) + "\n")
            count += 1
    return count


def _vestiging(
    site: Site, main: bool, postcode: str, licences: list[str]
) -> dict[str, Any]:
    return {
        "vestiging": site.vestiging,
        "naam": site.naam,
        "hoofdvestiging": main,
        "postcode": postcode,
        "gemeente": site.gemeente,
        "licenties": [
            {"elementcode": c, "van": LICENCE_FROM, "tot": None} for c in licences
        ],
    }


def school_lines(
    schools: list[SchoolRef],
    maker: PersonMaker,
    licences: dict[tuple[str, str], list[str]],
) -> list[dict[str, Any]]:
    """One line per school; each vestiging a postcode in its municipality."""
    lines = []
    for school in schools:
        main = school.hoofdvestiging
        vestigingen = [
            _vestiging(
                site,
                site is main,
                maker.postcode(site.gemeente),
                licences.get((site.brin, site.vestiging), []),
            )
            for site in school.sites
        ]
        lines.append(
            {
                "brin": school.brin,
                "naam": main.naam,
                "gemeente": main.gemeente,
                "vestigingen": vestigingen,
            }
        )
    return lines


def population_lines(persons: list[Person]) -> Iterable[dict[str, Any]]:
    return (p.line() for p in persons if p.in_register)


def write_exclusions(
    out: Path, schools: list[SchoolRef], exclusions: list[tuple[Pupil, str]]
) -> dict[int, str]:
    by_school: dict[int, list[dict[str, Any]]] = {}
    for pupil, reden in exclusions:
        row = {"leerling": {"bsn": pupil.person.bsn}, "reden": reden}
        by_school.setdefault(pupil.site.school, []).append(row)
    files = {}
    (out / "exclusions").mkdir(parents=True, exist_ok=True)
    for index, rows in sorted(by_school.items()):
        name = f"exclusions/{schools[index].brin}.jsonl"
        write_lines(out / name, rows)
        files[index] = name
    return files


def write_schedule(path: Path, ops: list[Op]) -> None:
    ordered = sorted(enumerate(ops), key=lambda e: (e[1][0], e[0]))
    write_lines(path, ({"at": iso(at)} | body for _, (at, body) in ordered))


def write_expected(path: Path, expected: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
