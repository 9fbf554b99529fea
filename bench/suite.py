"""Run every benchmark and write docs/benchmarks.md: each figure with the raw
reference measured in the same run, the ratio, the command and the machine.

Usage: python bench/suite.py [--scale small|national] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from figures import ENV, SIZE_ENV, gather  # noqa: E402
from scaling import growth_section  # noqa: E402

PY = sys.executable
REGISTRY = str(Path(PY).parent / "registry")

# (title, command per scale)
BENCHES: list[tuple[str, dict[str, list[str]]]] = [
    (
        "Bulk save of aggregates vs COPY",
        {
            "small": [PY, "bench/save_many.py", "20000", "3"],
            "national": [PY, "bench/save_many.py", "100000", "3"],
        },
    ),
    (
        "Intake of one delivery, and of many small ones, vs COPY",
        {
            "small": [
                PY,
                "bench/intake.py",
                "20000",
                "3",
                "--processes",
                "2",
                "--small",
                "400",
            ],
            "national": [
                PY,
                "bench/intake.py",
                "100000",
                "3",
                "--processes",
                "2",
                "--small",
                "400",
            ],
        },
    ),
    (
        "Read side: rebuild, snapshot latency, national totals, tailing reader",
        {
            "small": [PY, "bench/readside.py", "--students", "60000", "--rounds", "3"],
            "national": [
                PY,
                "bench/readside.py",
                "--students",
                "960000",
                "--rounds",
                "2",
            ],
        },
    ),
    (
        "Extracts caught up vs the raw read of the log",
        {
            "small": [
                PY,
                "bench/extracts.py",
                "--students",
                "60000",
                "--events",
                "200000",
                "--rounds",
                "3",
            ],
            "national": [
                PY,
                "bench/extracts.py",
                "--students",
                "960000",
                "--events",
                "400000",
                "--rounds",
                "2",
            ],
        },
    ),
    (
        "Publication: relay vs raw producer, scaling, end-to-end latency",
        {
            "small": [
                PY,
                "bench/publish.py",
                "--messages",
                "30000",
                "--latency-seconds",
                "15",
            ],
            "national": [
                PY,
                "bench/publish.py",
                "--messages",
                "200000",
                "--latency-seconds",
                "30",
            ],
        },
    ),
    (
        "Publication to a broker that checks no schemas (the demo's, as Apache Kafka)",
        {
            "small": [
                PY,
                "bench/publish.py",
                "--messages",
                "30000",
                "--no-broker-schemas",
                "--skip-scaling",
                "--skip-latency",
            ],
            "national": [
                PY,
                "bench/publish.py",
                "--messages",
                "200000",
                "--no-broker-schemas",
                "--skip-scaling",
                "--skip-latency",
            ],
        },
    ),
    (
        "Agency consumer: stored and folded vs a bare consumer",
        {
            "small": [PY, "bench/consumer.py", "100000", "2"],
            "national": [PY, "bench/consumer.py", "200000", "2"],
        },
    ),
    (
        "Generation of a school year vs writing the same bytes",
        {
            "small": [PY, "bench/generate.py", "small", "3"],
            "national": [PY, "bench/generate.py", "national", "1"],
        },
    ),
]


# What each bench measures on, per scale: bench/scaling.py reads a figure's
# growth between the scales against these.
SIZES: dict[str, dict[str, str]] = {
    "Bulk save of aggregates vs COPY": {
        "small": "20000 aggregates",
        "national": "100000 aggregates",
    },
    "Intake of one delivery, and of many small ones, vs COPY": {
        "small": "20000 records",
        "national": "100000 records",
    },
    "Read side: rebuild, snapshot latency, national totals, tailing reader": {
        "small": "60000 students",
        "national": "960000 students",
    },
    "Extracts caught up vs the raw read of the log": {
        "small": "200000 events",
        "national": "400000 events",
    },
    "Publication: relay vs raw producer, scaling, end-to-end latency": {
        "small": "30000 messages",
        "national": "200000 messages",
    },
    "Publication to a broker that checks no schemas (the demo's, as Apache Kafka)": {
        "small": "30000 messages",
        "national": "200000 messages",
    },
    "Agency consumer: stored and folded vs a bare consumer": {
        "small": "100000 messages",
        "national": "200000 messages",
    },
    "Generation of a school year vs writing the same bytes": {
        "small": "6000 students",
        "national": "960000 students",
    },
}


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.machine()}, {cpus} cores{mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def run(command: list[str], figures: Path, size: str) -> tuple[str, float, int]:
    start = time.perf_counter()
    env = os.environ | {ENV: str(figures), SIZE_ENV: size}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    output = (done.stdout + ("\n" + done.stderr if done.returncode else "")).strip()
    return output, time.perf_counter() - start, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=("small", "national"), default="small")
    parser.add_argument("--out", default="docs/benchmarks.md")
    args = parser.parse_args()
    figures = ROOT / args.out.replace(".md", ".figures.jsonl")
    figures.unlink(missing_ok=True)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench SCALE={args.scale}` (`python bench/suite.py --scale {args.scale}`) "
        f"on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}. Shared and noisy: figures are medians; compare ratios.",
        "Every figure comes with its raw reference measured in the same run on the same server.",
        "",
    ]
    body: list[str] = []
    for title, commands in BENCHES:
        command = commands[args.scale]
        print(f"== {title}: {' '.join(command[1:])}", file=sys.stderr)
        output, seconds, code = run(command, figures, SIZES[title][args.scale])
        shown = " ".join(["python", *command[1:]])
        status = "" if code == 0 else f" (exit {code})"
        body += [
            f"## {title}",
            "",
            f"`{shown}` took {seconds:,.0f} s{status}:",
            "",
            "```",
            output,
            "```",
            "",
        ]
        print(output, file=sys.stderr)
    # Read last, so the notes can be edited while a long national run goes on.
    notes = ROOT / "docs" / "benchmarks-notes.md"
    if notes.exists():  # the hand-kept reading of the figures: what limits each
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    data = {
        "scale": args.scale,
        "written": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "machine": machine(),
        "figures": gather(figures),
    }
    out_json = ROOT / args.out.replace(".md", ".json")
    text = json.dumps(data, indent=2) + "\n"
    out_json.write_text(text, encoding="utf-8")
    # Kept per scale too, so the growth from small to national can be read.
    per_scale = ROOT / args.out.replace(".md", f"-{args.scale}.json")
    per_scale.write_text(text, encoding="utf-8")
    lines += growth_section(ROOT / args.out.replace(".md", ""))
    lines += ["# Full output", ""]
    (ROOT / args.out).write_text("\n".join(lines + body) + "\n", encoding="utf-8")
    figures.unlink(missing_ok=True)
    print(f"wrote {args.out} and {out_json.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
