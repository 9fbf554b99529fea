"""The demo's agency consumers, a process per group (simulation/processes.py):
every recipient is read by exactly one consumer, and the two that receive
every enrolment do not share an interpreter with anyone."""

from __future__ import annotations

from registry.simulation.processes import consumer_groups


def test_every_recipient_once_and_the_large_ones_alone() -> None:
    recipients = ["cbs", "inspectie", "svb", "gm0014", "gm0034"]
    groups = consumer_groups(recipients)
    assert groups == [["cbs"], ["inspectie"], ["svb", "gm0014", "gm0034"]]


def test_a_year_with_fewer_recipients_gets_no_empty_process() -> None:
    assert consumer_groups(["cbs", "inspectie"]) == [["cbs"], ["inspectie"]]
    assert consumer_groups(["svb"]) == [["svb"]]
    assert consumer_groups([]) == []
