"""Two deliveries that touch the same student at the same moment: both judged on
the same state, the slower save conflicts, is judged again, and nothing is lost
or recorded twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from registry.bootstrap import Runtime
from registry.domain.student import Student
from tests.conftest import utc
from tests.intake_helpers import (
    ANNA,
    batch,
    prepare,
    rec,
    student,
    student_id,
    verdicts,
)

AT = utc(2026, 8, 20)


def test_concurrent_deliveries_of_one_student_are_serialised(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(runtime)
    registry = runtime.registry
    save_at = registry.save_at
    both_judged = threading.Barrier(2, timeout=30)
    first_attempt: set[int] = set()
    calls: list[int] = []

    def racing_save(*aggregates: Any, **kw: Any) -> Any:
        # Hold each thread's first save until both have judged their batch on the
        # same state, so the second save must conflict.
        me = threading.get_ident()
        calls.append(me)
        if me not in first_attempt:
            first_attempt.add(me)
            both_judged.wait()
        return save_at(*aggregates, **kw)

    monkeypatch.setattr(registry, "save_at", racing_save)
    raws = [batch(rec(1, student(ANNA)), brin=brin) for brin in ("01OE", "02AB")]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda raw: runtime.intake.submit(raw, AT), raws))

    assert [verdicts(r.feedback)[1][0] for r in results] == ["G", "G"]
    assert len(calls) == 3  # one of the two was judged again after the conflict
    sid = student_id(runtime, ANNA["bsn"])
    events = list(registry.events.get(sid))
    assert [type(e) for e in events] == [Student.Registered]
    for brin in ("01OE", "02AB"):
        enrolment = registry.enrolment(sid, brin, utc(2026, 8, 1).date())
        assert enrolment is not None
        assert enrolment.version == 1
