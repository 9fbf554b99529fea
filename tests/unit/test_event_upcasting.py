"""A worked example of evolving stored events the way the eventsourcing library does.

The aggregate here is the test's own, not the registry's. Version 1 of `Pupil`
stores events and a snapshot. Version 2, deployed under the same name and so under
the same topics, changes three things, each on the class whose stored state it is:

- `Registered` renames `naam` to `achternaam` and adds `voornamen`: the event class
  gets `class_version = 2` and a static `upcast_v1_v2(state)`;
- `Moved` adds `landcode` with a default, on the field and on the method's
  parameter, which old events simply lack: no upcast needed;
- the aggregate class itself gets `class_version = 2` and an upcast, because a
  snapshot stores the aggregate's attributes, which changed in both ways.

The mapper calls the upcasts from the stored `class_version` (none means 1) up to
the class's own, before the event or snapshot object is made.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from eventsourcing import utils
from eventsourcing.domain import Aggregate, Snapshot, event
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)


class Pupil(Aggregate):
    """Version 1, as first deployed."""

    class Registered(Aggregate.Created):
        naam: str

    class Moved(Aggregate.Event):
        postcode: str

    @event(Registered)
    def __init__(self, naam: str) -> None:
        self.naam = naam
        self.postcode: str | None = None

    @event(Moved)
    def move(self, postcode: str) -> None:
        self.postcode = postcode


class PupilV2(Aggregate):
    """Version 2; deployed, it is the module's `Pupil`."""

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["achternaam"] = state.pop("naam")
        state["voornamen"] = None
        state["landcode"] = None

    class Registered(Aggregate.Created):
        achternaam: str
        voornamen: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["achternaam"] = state.pop("naam")
            state["voornamen"] = None

    class Moved(Aggregate.Event):
        postcode: str | None
        landcode: str | None = None

    @event(Registered)
    def __init__(self, achternaam: str, voornamen: str | None) -> None:
        self.achternaam = achternaam
        self.voornamen = voornamen
        self.postcode: str | None = None
        self.landcode: str | None = None

    @event(Moved)
    def move(self, postcode: str | None, landcode: str | None = None) -> None:
        self.postcode = postcode
        self.landcode = landcode


def mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder)


def stored_by_version_1() -> tuple[UUID, list[StoredEvent], StoredEvent]:
    pupil = Pupil(naam="Jansen")
    pupil.move("9711AB")
    m = mapper()
    events = [m.to_stored_event(e) for e in pupil.collect_events()]
    return pupil.id, events, m.to_stored_event(Snapshot.take(pupil))


@pytest.fixture
def deploy_version_2(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    def deploy() -> None:
        """A new release is a new process: the module's `Pupil` is version 2 and
        no topic is cached yet, so the stored topics resolve to version 2."""
        monkeypatch.setattr(sys.modules[__name__], "Pupil", PupilV2)
        monkeypatch.setattr(utils, "_topic_cache", {})

    return deploy


def test_version_1_stores_no_class_version() -> None:
    _, events, _ = stored_by_version_1()
    assert [e.topic for e in events] == [
        f"{__name__}:Pupil.Registered",
        f"{__name__}:Pupil.Moved",
    ]
    assert b'"naam":"Jansen"' in events[0].state
    assert b"class_version" not in events[0].state


def test_version_1_events_load_into_the_version_2_shape(
    deploy_version_2: Callable[[], None],
) -> None:
    pupil_id, stored, _ = stored_by_version_1()
    deploy_version_2()
    registered, moved = (mapper().to_domain_event(s) for s in stored)

    assert isinstance(registered, PupilV2.Registered)
    assert (registered.achternaam, registered.voornamen) == ("Jansen", None)
    assert "naam" not in vars(registered)
    assert isinstance(moved, PupilV2.Moved)
    assert (moved.postcode, moved.landcode) == ("9711AB", None)

    pupil = moved.mutate(registered.mutate(None))
    assert isinstance(pupil, PupilV2)
    assert (pupil.id, pupil.version) == (pupil_id, 2)
    assert (pupil.achternaam, pupil.voornamen) == ("Jansen", None)
    assert (pupil.postcode, pupil.landcode) == ("9711AB", None)


def test_a_version_1_snapshot_loads_into_the_version_2_shape(
    deploy_version_2: Callable[[], None],
) -> None:
    pupil_id, _, stored = stored_by_version_1()
    deploy_version_2()
    snapshot = mapper().to_domain_event(stored)
    assert isinstance(snapshot, Snapshot)

    pupil = snapshot.mutate(None)
    assert isinstance(pupil, PupilV2)
    assert (pupil.id, pupil.version) == (pupil_id, 2)
    assert not hasattr(pupil, "naam")
    assert (pupil.achternaam, pupil.voornamen) == ("Jansen", None)
    assert (pupil.postcode, pupil.landcode) == ("9711AB", None)


def test_version_2_stores_its_class_version_and_loads_without_upcasting() -> None:
    pupil = PupilV2(achternaam="Bakker", voornamen="Sem")
    pupil.move(None, landcode="5010")
    m = mapper()
    stored = [m.to_stored_event(e) for e in pupil.collect_events()]
    assert b'"class_version":2' in stored[0].state
    assert b"class_version" not in stored[1].state

    registered, moved = (m.to_domain_event(s) for s in stored)
    assert isinstance(registered, PupilV2.Registered)
    assert (registered.achternaam, registered.voornamen) == ("Bakker", "Sem")
    assert isinstance(moved, PupilV2.Moved)
    assert moved.landcode == "5010"
