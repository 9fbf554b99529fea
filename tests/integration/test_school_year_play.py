"""A generated school year played through the registry gives exactly the outcome
the generator planted; its fotos come at the right milestones and re-derive to
the same hash after the year."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.bootstrap import Runtime
from registry.simulation.generator import generate
from registry.simulation.year import play

COMPARED = ("records", "refused_batches", "redeliveries", "final_status", "signals")


def _play_and_compare(runtime: Runtime, year: Path) -> None:
    report = play(runtime, year)
    assert report.mismatches == []
    expected = json.loads((year / "expected.json").read_text())
    outcome = report.outcome(runtime)
    assert {k: outcome[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}

    kinds = [(f["soort"], f["at"][:10]) for f in report.fotos]
    assert {d for k, d in kinds if k == "voorlopig"} <= {
        "2026-11-15",
        "2026-11-29",
        "2026-12-13",
        "2027-01-04",
    }
    assert {d for k, d in kinds if k == "definitief"} == {"2027-07-21"}
    for brin in {f["brin"] for f in report.fotos if f["soort"] == "definitief"}:
        foto = runtime.fotos.stored(brin, "2026-2027", "definitief")
        assert runtime.fotos.verify(foto), brin


def test_the_tiny_year_gives_the_planted_outcome(
    runtime: Runtime, tmp_path: Path
) -> None:
    generate(1, "tiny", tmp_path)
    _play_and_compare(runtime, tmp_path)


@pytest.mark.slow
def test_the_small_year_gives_the_planted_outcome(
    runtime: Runtime, tmp_path: Path
) -> None:
    generate(1, "small", tmp_path)
    _play_and_compare(runtime, tmp_path)
