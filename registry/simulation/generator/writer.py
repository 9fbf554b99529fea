"""Writing the batch files (one record a line inside the JSON array) and tallying
the feedback every processed record must end with."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from registry.simulation.generator.batches import ACCOUNTANT, Batch
from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import OUTAGES
from registry.simulation.generator.names import LAS_PACKAGES
from registry.simulation.generator.output import dumps
from registry.simulation.generator.records import (
    Judge,
    Waiting,
    august_record,
    item_record,
)

FORMAT = "bron-vo-batch/1"
FOURTEEN_DAYS = 14 * 86_400


def waiting(batch: Batch) -> Waiting | None:
    for outage in OUTAGES:
        if outage.covers(batch.at):
            waited = (outage.retry - batch.at).total_seconds()
            return Waiting(outage.retry, waited > FOURTEEN_DAYS)
    return None


def header(batch: Batch) -> dict[str, Any]:
    naam, versie = LAS_PACKAGES[batch.school.index % len(LAS_PACKAGES)]
    return {
        "format": FORMAT,
        "brin": batch.school.brin,
        "aanleverpunt": 0,
        "batchnummer": batch.batchnummer,
        "schooljaar": batch.schooljaar,
        "soort": batch.soort,
        "verantwoordelijke": "ACCOUNTANT"
        if batch.soort == ACCOUNTANT
        else "INSTELLING",
        "pakket": {"naam": naam, "versie": versie},
    }


class Tally:
    def __init__(self) -> None:
        self.status: Counter[str] = Counter()
        self.signals: Counter[str] = Counter()
        self.records = 0
        self.waited = 0

    def add(self, status: str, codes: list[str], wait: Waiting | None) -> None:
        self.records += 1
        self.status[status] += 1
        self.signals.update(codes)
        self.waited += wait is not None


class BatchWriter:
    def __init__(self, out: Path, judge: Judge) -> None:
        self.out = out
        self.judge = judge
        self.tally = Tally()
        (out / "batches").mkdir(parents=True, exist_ok=True)

    def write(self, batch: Batch) -> None:
        path = self.out / batch.file
        if batch.role == "redelivery":
            assert batch.original is not None
            original = self.out / batch.original.file
            path.write_bytes(original.read_bytes())
            return
        judged = batch.role == "normal"
        wait = waiting(batch) if judged else None
        head = dumps(header(batch))[:-1]
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.write(head + ',"meldingen":[\n')
            last = len(batch.entries)
            for n, entry in enumerate(batch.entries, start=1):
                f.write(dumps(self.render(n, entry, batch, wait, judged)))
                f.write(",\n" if n < last else "\n")
            f.write("]}\n")

    def render(
        self, n: int, entry: Any, batch: Batch, wait: Waiting | None, judged: bool
    ) -> dict[str, Any]:
        if isinstance(entry, Pupil):
            record = august_record(n, entry)
            if judged:
                self.tally.add(*self.judge.august(entry, wait), wait)
            return record
        record = item_record(n, entry)
        if judged:
            self.tally.add(*self.judge.item(entry, batch.day, wait), wait)
        return record
