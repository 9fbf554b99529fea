"""The demo's agency consumers, a process per group (simulation/processes.py):
every recipient is read by exactly one consumer, and the two that receive
every enrolment do not share an interpreter with anyone; they stop once all is
stored."""

from __future__ import annotations

from kafka.structs import TopicPartition

from consumers.agency import AgencyConsumer
from registry.simulation.agencies import stored_up_to
from registry.simulation.processes import consumer_groups


def test_every_recipient_once_and_the_large_ones_alone() -> None:
    recipients = ["cbs", "inspectie", "svb", "gm0014", "gm0034"]
    groups = consumer_groups(recipients)
    assert groups == [["cbs"], ["inspectie"], ["svb", "gm0014", "gm0034"]]


def test_a_year_with_fewer_recipients_gets_no_empty_process() -> None:
    assert consumer_groups(["cbs", "inspectie"]) == [["cbs"], ["inspectie"]]
    assert consumer_groups(["svb"]) == [["svb"]]
    assert consumer_groups([]) == []


def test_the_consumers_have_stored_it_all_only_at_every_partitions_end() -> None:
    """The demo's consumers stop once each has stored its own topics' partitions
    up to their end offsets (read after the relay stopped)."""
    cbs = AgencyConsumer("postgresql:///none", "127.0.0.1:1", "cbs")
    svb = AgencyConsumer("postgresql:///none", "127.0.0.1:1", "svb")
    first, second = (TopicPartition(cbs.topics[0], p) for p in (0, 1))
    other = TopicPartition(svb.topics[0], 0)
    ends = {first: 5, second: 0, other: 3}  # nothing ever sent to `second`
    assert not stored_up_to([cbs, svb], ends)
    cbs.positions[first] = 4  # the fifth message is not stored yet
    svb.positions[other] = 3
    assert not stored_up_to([cbs, svb], ends)
    cbs.positions[first] = 5
    assert stored_up_to([cbs, svb], ends)
    assert stored_up_to([cbs], {other: 3})  # SVB's topic asks nothing of CBS
    assert not stored_up_to([cbs, svb], ends | {other: 4})  # one more came
