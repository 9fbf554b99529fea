"""The bench suite's growth table: a figure's factor per tenfold size, read from
two runs' docs/benchmarks-*.json, and the size each bench hands its figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import figures  # noqa: E402
import scaling  # noqa: E402
import suite  # noqa: E402


def run_of(**figs: tuple[float, float]) -> dict[str, object]:
    return {
        "written": "2026-12-04T00:00:00Z",
        "figures": {
            name: {"value": v, "unit": "s", "size": size, "size_unit": "students"}
            for name, (v, size) in figs.items()
        },
    }


def test_a_figure_linear_in_size_grows_tenfold_per_decade() -> None:
    rows = scaling.growth(run_of(totals=(0.1, 60_000)), run_of(totals=(1.6, 960_000)))
    assert [r["name"] for r in rows] == ["totals"]
    assert rows[0]["per_10x"] == pytest.approx(10.0)
    assert rows[0]["at_10x"] == pytest.approx(16.0)


def test_a_flat_figure_stays_and_unmatched_figures_are_left_out() -> None:
    rows = scaling.growth(
        run_of(rate=(8000, 20_000), only_small=(1, 10), same_size=(3, 5)),
        run_of(rate=(8000, 100_000), only_national=(2, 10), same_size=(4, 5)),
    )
    assert [(r["name"], round(r["per_10x"], 6)) for r in rows] == [("rate", 1.0)]


def test_the_suite_section_needs_both_scales(tmp_path: Path) -> None:
    stem = tmp_path / "benchmarks"
    (tmp_path / "benchmarks-small.json").write_text(json.dumps(run_of(x=(1.0, 10))))
    assert scaling.growth_section(stem) == []
    (tmp_path / "benchmarks-national.json").write_text(json.dumps(run_of(x=(2.0, 100))))
    section = scaling.growth_section(stem)
    assert section[0] == "# Growth from small to national scale"
    assert any(line.startswith("| x (s) |") and "×2.00" in line for line in section)


def test_a_recorded_figure_carries_the_size_the_suite_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "figures.jsonl"
    monkeypatch.setenv(figures.ENV, str(out))
    monkeypatch.setenv(figures.SIZE_ENV, "60000 students")
    figures.record("national_totals_s", 0.5, "s", 0.1, lower_is_better=True)
    got = figures.gather(out)["national_totals_s"]
    assert got["size"] == 60_000 and got["size_unit"] == "students"
    assert got["ratio"] == pytest.approx(0.2)


def test_a_figure_that_does_not_grow_with_size_is_left_out_of_the_growth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake's small deliveries are the same at any scale: sizing them by the
    suite's 20,000 and 100,000 records would show a growth that is not there."""
    out = tmp_path / "figures.jsonl"
    monkeypatch.setenv(figures.ENV, str(out))
    runs = []
    for size, ms in (("20000 records", 4.0), ("100000 records", 4.4)):
        monkeypatch.setenv(figures.SIZE_ENV, size)
        figures.record("small_ms", ms, "ms", 0.5, lower_is_better=True, sized=False)
        figures.record("rate", 8000.0, "records/s", 200_000.0)
        runs.append({"written": "-", "figures": figures.gather(out)})
    assert "size" not in runs[1]["figures"]["small_ms"]
    assert runs[1]["figures"]["small_ms"]["ratio"] == pytest.approx(0.5 / 4.4, abs=1e-4)
    assert [r["name"] for r in scaling.growth(*runs)] == ["rate"]


def test_every_bench_of_the_suite_names_its_size_at_every_scale() -> None:
    """The suite looks each bench's size up by its title: a bench without one
    stops the whole suite, and only after the benches before it have run."""
    for title, commands in suite.BENCHES:
        assert set(suite.SIZES[title]) == set(commands), title
