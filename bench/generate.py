"""Benchmark: generating a school year (registry generate) vs the raw limit of
writing the same bytes, measured in the same run: the generated files are read
into memory and written again to a fresh directory (no fsync, like the
generator). Usage: python bench/generate.py [SCALE] [ROUNDS]"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from registry.simulation.generator import generate


def raw_write(files: dict[Path, bytes], out: Path) -> float:
    start = time.perf_counter()
    for rel, data in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return time.perf_counter() - start


def main() -> None:
    scale = sys.argv[1] if len(sys.argv) > 1 else "small"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    work = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    try:
        spent, raw = [], []
        for i in range(rounds):
            year = work / f"year{i}"
            start = time.perf_counter()
            expected = generate(1, scale, year)
            spent.append(time.perf_counter() - start)
            files = {
                p.relative_to(year): p.read_bytes()
                for p in year.rglob("*")
                if p.is_file()
            }
            raw.append(raw_write(files, work / f"raw{i}"))
            shutil.rmtree(work / f"raw{i}")
        size = sum(len(b) for b in files.values())
        gen, ref = statistics.median(spent), statistics.median(raw)
        print(
            f"generation of a school year, scale {scale}, median of {rounds} round(s)"
        )
        print(
            f"  files           : {len(files):,} files, {size / 1e6:,.0f} MB, {expected['students']:,} students, {expected['records']:,} records"
        )
        print(f"  generate        : {gen:8.1f} s ({size / 1e6 / gen:,.1f} MB/s)")
        print(
            f"  raw write       : {ref:8.1f} s ({size / 1e6 / ref:,.1f} MB/s, same bytes)"
        )
        print(f"  ratio           : {ref / gen:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
