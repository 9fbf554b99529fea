"""An event a projection cannot apply stops that projection just before it, says
where and why without personal data, is not retried in a loop, and holds up no
other projection."""

from __future__ import annotations

import pytest

from registry.bootstrap import Runtime
from registry.projections.engine.multi import fresh_together
from registry.projections.engine.runner import ProjectionStopped
from registry.projections.extracts.base import ExtractProjection
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student


def a_broken_event(rt: Runtime) -> int:
    """A key-data change the timeline cannot apply (no landcode in its new key),
    stored past the domain's checks as a bug of earlier code could have."""
    anna = rt.registry.student(ANNA["bsn"])
    assert anna is not None
    at = utc(2026, 9, 1)
    new = {
        "geboortedatum": anna.key["geboortedatum"],
        "geslacht": "V",
        "postcode": "9712CD",
    }
    source = {"brin": "01OE", "batchnummer": 9, "meldingnummer": 1}
    anna._change_key_data(old=anna.key, new=new, source=source, timestamp=at)
    position = rt.registry.save_at(anna, at=at)
    assert position is not None
    return position


def test_a_projection_stops_before_an_event_it_cannot_apply(rt_: Runtime) -> None:
    rt = rt_
    rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
    broken = a_broken_event(rt)
    rt.intake.submit(batch(rec(1, student(PIET)), number=2), utc(2026, 9, 2))
    head = rt.registry.recorder.max_notification_id()
    extracts = [p for p in rt.projections if isinstance(p, ExtractProjection)]
    fresh_together(rt.projector, [Timeline(), *extracts])  # returns, no loop
    rt.catch_up()  # and again: nothing to do, nothing raised
    status = {s.name: s for s in rt.projector.status()}
    timeline = status["timeline"]
    assert (timeline.failed_at, timeline.position) == (broken, broken - 1)
    assert timeline.failure is not None
    assert (
        "KeyError" in timeline.failure and "Student.KeyDataChanged" in timeline.failure
    )
    assert ANNA["bsn"] not in timeline.failure and "9712CD" not in timeline.failure
    # The other projections went on past it.
    assert all(status[e.name].position == head for e in extracts)
    assert all(status[e.name].failed_at is None for e in extracts)
    # A rebuild meets the same event and says so, leaving the live tables.
    with pytest.raises(ProjectionStopped, match=str(broken)):
        rt.projector.rebuild(Timeline())
    assert rt.projector.live_schema("timeline") == timeline.schema
    # Resumed (as after a fix), it tries again and stops at the same event.
    assert rt.projector.resume("timeline") == [timeline.schema]
    rt.catch_up()
    again = {s.schema: s for s in rt.projector.status()}[timeline.schema]
    assert again.failed_at == broken


@pytest.fixture
def rt_(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime
