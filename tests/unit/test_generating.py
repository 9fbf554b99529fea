"""The demo's year generated in a process of its own: the same files as in
this one, the register and schedule first, and a failure told, not hung on."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.simulation.generating import Generating, GeneratorFailed
from registry.simulation.generator import generate


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_process_writes_what_generate_writes(tmp_path: Path) -> None:
    generating = Generating(7, "tiny", tmp_path / "apart")
    generating.wait_ready()
    assert (tmp_path / "apart" / "population.jsonl").is_file()
    generating.before({"op": "population-load"})  # does not wait
    generating.before({"op": "submit"})  # waits for the batches
    expected = generate(7, "tiny", tmp_path / "here")
    assert generating.result() == expected
    assert _files(tmp_path / "apart") == _files(tmp_path / "here")
    generating.stop()


def test_a_failed_generator_is_told(tmp_path: Path) -> None:
    (tmp_path / "year").write_text("a file where the year's directory goes")
    generating = Generating(7, "tiny", tmp_path / "year")
    with pytest.raises(GeneratorFailed, match="NotADirectoryError"):
        generating.wait_ready()
    generating.stop()
