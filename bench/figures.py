"""The benches' headline figures as data: each bench calls `record` beside its
printed line, and `bench/suite.py` gathers them into docs/benchmarks.json.

A figure's ratio is taken against its raw reference so that 1.0 is the raw
limit and higher is better: value / raw for rates, raw / value for times."""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "BENCH_FIGURES"  # a JSON-lines file the suite names; unset: nothing kept
# What the suite's bench measured on ("20000 records"): kept with each figure so
# bench/scaling.py can say how a figure grows with the size of the country.
SIZE_ENV = "BENCH_SIZE"


def record(
    name: str,
    value: float,
    unit: str,
    raw: float | None = None,
    *,
    lower_is_better: bool = False,
    sized: bool = True,
) -> None:
    """`sized=False`: a figure its bench measures the same way whatever the
    size it was given, which the growth table then leaves out."""
    path = os.environ.get(ENV)
    if not path:
        return
    ratio = None
    if raw is not None and value:
        ratio = raw / value if lower_is_better else value / raw
    line = {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "raw": None if raw is None else round(raw, 4),
        "ratio": None if ratio is None else round(ratio, 4),
    }
    size = os.environ.get(SIZE_ENV, "").split(maxsplit=1)
    if sized and len(size) == 2:
        line["size"] = float(size[0])
        line["size_unit"] = size[1]
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def gather(path: Path) -> dict[str, dict[str, object]]:
    """The recorded figures by name (a later record of a name wins)."""
    if not path.exists():
        return {}
    figures: dict[str, dict[str, object]] = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        figures[line.pop("name")] = line
    return figures
