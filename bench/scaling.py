"""How each figure grows from the small to the national scale: the factor per
tenfold size, and the figure extrapolated to ten times the national size.

A figure's size is what its bench measured on (students, records, messages),
kept beside it by the suite. The factor per 10x is (national / small) raised to
1 / log10(national size / small size): 1.0 means the figure does not move with
size, 10 that it grows in proportion. Two points make a power law, no more, so
the extrapolation is a sketch to plan with, not a measurement.

Usage: python bench/scaling.py [--small docs/benchmarks-small.json]
                               [--national docs/benchmarks-national.json]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def growth(small: dict[str, Any], national: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure measured at both scales on two different sizes."""
    rows = []
    for name, big in national["figures"].items():
        little = small["figures"].get(name)
        if little is None or not little.get("size") or not big.get("size"):
            continue
        if big["size"] == little["size"] or not little["value"] or not big["value"]:
            continue
        decades = math.log10(big["size"] / little["size"])
        per_10x = (big["value"] / little["value"]) ** (1 / decades)
        rows.append(
            {
                "name": name,
                "unit": big["unit"],
                "small": little["value"],
                "small_size": f"{little['size']:,.0f} {little.get('size_unit', '')}",
                "national": big["value"],
                "national_size": f"{big['size']:,.0f} {big.get('size_unit', '')}",
                "per_10x": per_10x,
                "at_10x": big["value"] * per_10x,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| figure | small (size) | national (size) | factor per 10× | at 10× national |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} ({r['unit']}) | {r['small']:,.4g} ({r['small_size'].strip()}) "
            f"| {r['national']:,.4g} ({r['national_size'].strip()}) "
            f"| ×{r['per_10x']:.2f} | {r['at_10x']:,.4g} |"
        )
    return lines


def growth_section(stem: Path) -> list[str]:
    """The markdown the suite adds when both scales' figures are on record."""
    small = load(stem.with_name(stem.name + "-small.json"))
    national = load(stem.with_name(stem.name + "-national.json"))
    if small is None or national is None:
        return []
    rows = growth(small, national)
    if not rows:
        return []
    return [
        "# Growth from small to national scale",
        "",
        f"From `{stem.name}-small.json` ({small['written']}) and "
        f"`{stem.name}-national.json` ({national['written']}), written by "
        "`python bench/scaling.py`. The factor per 10× is the figure's growth per "
        "tenfold size of what its bench measured on; the last column extends "
        "that power law one decade past the national size (a sketch).",
        "",
        *table(rows),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", default=str(ROOT / "docs/benchmarks-small.json"))
    parser.add_argument(
        "--national", default=str(ROOT / "docs/benchmarks-national.json")
    )
    args = parser.parse_args()
    small, national = load(Path(args.small)), load(Path(args.national))
    if small is None or national is None:
        raise SystemExit("both scales' figures are needed: run make bench at each")
    print("\n".join(table(growth(small, national))))


if __name__ == "__main__":
    main()
