"""The package as users get it: a wheel built from the checkout, installed (not
editable) into a folder of its own, plays the tiny demo from another folder and
publishes. Nothing of the checkout (docs/, the tests' data) is within reach."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("checkout")
    wheels, target = tmp_path_factory.mktemp("wheels"), tmp_path_factory.mktemp("site")
    # The committed and staged files only: no build/ left over from an earlier
    # build can supply what the package data lacks.
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], check=True
    )
    (wheel,) = wheels.glob("bron_vo_registry-*.whl")
    # Its dependencies are this environment's; the package itself is the wheel's.
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    return target


def test_an_installed_wheel_plays_the_tiny_demo_and_publishes(
    installed: Path, tmp_path: Path
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REGISTRY_") or k == "REGISTRY_KAFKA_BOOTSTRAP"
    }
    env["PYTHONPATH"] = str(installed)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import registry, sys; print(registry.__file__, file=sys.stderr); "
            "from registry.cli.main import main; main()",
            "demo",
            "--scale",
            "tiny",
            *(["--use-configured-kafka"] if "REGISTRY_KAFKA_BOOTSTRAP" in env else []),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.startswith(str(installed)), "the wheel's package was not used"
    summary = json.loads(run.stdout)
    assert summary["mismatches"] == []
    assert summary["cards"]["messages published"] > 0
    assert set(summary["lag"].values()) == {0}
    assert summary["consumers"]["cbs"]["stored"] > 0
    assert (tmp_path / ".registry" / "report.html").exists()


def test_the_agency_kit_reads_the_wheel_s_schemas(
    installed: Path, tmp_path: Path
) -> None:
    """The schemas the kit reads are the wheel's package data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENCY_")}
    env["PYTHONPATH"] = str(installed)
    code = (
        "from consumers.contract import Schemas; import consumers, sys; "
        "print(consumers.__file__, file=sys.stderr); "
        "print(Schemas().topics_of('gm0363'))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith(str(installed))
    assert "bron.vo.gm0363.vsv.v2" in run.stdout
