"""`registry demo`: a whole (tiny) school year end to end, as a newcomer runs it,
with the projections, relay and consumers in processes beside the play."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REGISTRY = str(Path(sys.executable).parent / "registry")


def test_the_demo_plays_a_year_and_publishes_all_of_it(
    server_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = os.environ | {
        "REGISTRY_DATABASE_URL": server_url,
        "REGISTRY_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "REGISTRY_STATE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [REGISTRY, "demo", "--scale", "tiny"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["mismatches"] == []
    assert summary["cards"]["students"] > 100
    assert summary["cards"]["messages published"] > 0
    assert set(summary["lag"].values()) == {0}  # all projected, all relayed
    stored = {r: c["stored"] + c["duplicates"] for r, c in summary["consumers"].items()}
    assert stored["cbs"] >= sum(
        n for topic, n in summary["topics"].items() if topic.startswith("bron.vo.cbs.")
    )
    assert set(summary["stages"]) >= {"play the year", "relay catch-up"}
    report = Path(summary["report"]).read_text(encoding="utf-8")
    assert report.count("<svg") >= 4
