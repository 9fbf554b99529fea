"""Play a generated school year (`registry generate`): every operation of its
schedule at its recorded time, through the same services the commands use.

The outcome is counted from the batches' final feedback (re-judged waiting
records included) in the shape of the generator's expected.json, so a replay can
be compared with what was planted. An operation that does not behave as the
schedule expects (a batch that should be refused, a re-delivery that records
something) is a mismatch in the report, not a silent pass.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from registry.application.fotos import IssuedFoto
from registry.application.milestones import run_milestones
from registry.bootstrap import Runtime
from registry.domain.foto import FotoKind
from registry.intake.population import stream_persons
from registry.intake.reference_files import parse_exclusions, parse_schools
from registry.intake.service import DeliveryRefused
from registry.intake.wire import BatchKey, BatchRefused

# Two schools at a time: one foto's Python overlaps another's queries.
MILESTONE_WORKERS = 2


@dataclass
class PlayReport:
    ops: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(  # wall-clock, per kind
        default_factory=lambda: defaultdict(float)
    )
    mismatches: list[str] = field(default_factory=list)
    batches: dict[BatchKey, None] = field(default_factory=dict)  # ordered set
    refused_batches: int = 0
    redeliveries: int = 0
    fotos: list[dict[str, Any]] = field(default_factory=list)

    def outcome(self, rt: Runtime) -> dict[str, Any]:
        """Final status and signal counts over every recorded batch."""
        status: Counter[str] = Counter()
        signals: Counter[str] = Counter()
        records = 0
        for key in self.batches:
            feedback = rt.intake.feedback(key)
            if feedback is None:
                continue
            for entry in feedback["meldingen"]:
                records += 1
                status[entry["status"]] += 1
                signals.update({s["code"] for s in entry["signalen"]})
        return {
            "records": records,
            "refused_batches": self.refused_batches,
            "redeliveries": self.redeliveries,
            "final_status": {k: status[k] for k in ("G", "A", "W")},
            "signals": dict(sorted(signals.items())),
        }


def schedule(year: Path) -> list[dict[str, Any]]:
    lines = (year / "schedule.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def schedule_length(year: Path) -> int:
    return len(schedule(year))


def play(
    rt: Runtime,
    year: Path,
    on_op: Callable[[dict[str, Any]], None] | None = None,
    before: Callable[[dict[str, Any]], None] | None = None,
) -> PlayReport:
    """`before` is called with each operation before it runs (and before its
    time is counted): the demo waits there for the batches still being written."""
    report = PlayReport()
    for op in schedule(year):
        if before:
            before(op)
        at = datetime.fromisoformat(op["at"])
        action = _OPS.get(op["op"])
        if action is None:
            report.mismatches.append(f"unknown operation {op['op']!r} at {op['at']}")
            continue
        start = time.perf_counter()
        action(rt, year, op, at, report)
        report.seconds[op["op"]] += time.perf_counter() - start
        report.ops[op["op"]] += 1
        if on_op:
            on_op(op)
    return report


def _lines(year: Path, name: str) -> list[str]:
    return (year / name).read_text(encoding="utf-8").splitlines()


def _schools(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.registry.load_schools(
        parse_schools(_lines(year, op["file"])), at, rt.settings.save_batch_size
    )


def _population(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.load_population(stream_persons(_lines(year, op["file"])), at)


def _outage(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.population.set_available(op["available"], at)


def _retry(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.intake.retry_waiting(at)


def _submit(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    raw = (year / op["file"]).read_bytes()
    expect = op.get("expect")
    try:
        result = rt.intake.submit(raw, at)
    except (BatchRefused, DeliveryRefused) as e:
        r.refused_batches += 1
        if expect != "refused":
            r.mismatches.append(f"{op['file']}: refused unexpectedly: {str(e)[:200]}")
        return
    fb = result.feedback  # names the batch: no second parse of the delivery
    key = BatchKey(fb["brin"], fb["aanleverpunt"], fb["schooljaar"], fb["batchnummer"])
    if expect == "refused":
        r.mismatches.append(f"{op['file']}: expected a refusal, got feedback")
    if not result.recorded:
        r.redeliveries += 1
        if expect != "redelivery":
            r.mismatches.append(f"{op['file']}: recorded nothing (a re-delivery?)")
    elif expect == "redelivery":
        r.mismatches.append(f"{op['file']}: expected a re-delivery, was recorded")
    r.batches[key] = None


def _declare(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.registry.declare_complete(op["brin"], op["schooljaar"], at)


def _stop(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.catch_up()  # the stop's actuele foto reads the timeline
    foto = rt.fotos.stop(op["brin"], op["schooljaar"], at, on_request=True)
    _issued(r, op["brin"], foto)


def _foto(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.catch_up()  # the foto reads the timeline as far as the log goes now
    foto = rt.fotos.issue(FotoKind(op["soort"]), op["brin"], op["schooljaar"], at)
    _issued(r, op["brin"], foto)


def _milestones(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    rt.catch_up()
    report = run_milestones(rt.registry, rt.fotos, at, MILESTONE_WORKERS)
    r.mismatches += [f"milestone refused: {why}" for why in report.refused]
    for brin, foto in report.issued:
        _issued(r, brin, foto)


def _issued(r: PlayReport, brin: str, foto: IssuedFoto) -> None:
    r.fotos.append(
        {
            "brin": brin,
            "soort": foto.soort,
            "versie": foto.versie,
            "at": foto.stand_per.isoformat(),
            "hash": foto.content_hash,
            "controletotaal": foto.document["controletotaal"],
            "bekostigd": foto.document["bekostigd"],
        }
    )


def _assurance(
    rt: Runtime, year: Path, op: dict[str, Any], at: datetime, r: PlayReport
) -> None:
    exclusions = (
        parse_exclusions(_lines(year, op["exclusions"])) if op.get("exclusions") else []
    )
    rt.intake.report_assurance(
        op["brin"], op["schooljaar"], op["batches"], exclusions, at
    )


_OPS: dict[
    str, Callable[[Runtime, Path, dict[str, Any], datetime, PlayReport], None]
] = {
    "schools-load": _schools,
    "population-load": _population,
    "population-outage": _outage,
    "retry-waiting": _retry,
    "submit": _submit,
    "declare-complete": _declare,
    "mutation-stop": _stop,
    "foto": _foto,
    "milestones": _milestones,
    "assurance": _assurance,
}
