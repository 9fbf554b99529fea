"""Forgetting reaches the outbox (issue 15, item 7): the messages about a
forgotten person are redacted in place, their ids kept, and neither the relay
nor a republish sends them; the forget messages themselves go out."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.publishing.admin import ensure_topics
from registry.publishing.relay import Relay, producer
from tests.conftest import utc
from tests.intake_helpers import (
    ANNA,
    JIP,
    prepared_with_jip,
    student_id,
)
from tests.integration.test_forget_messages import (
    a_year,
    a_year_then_forgotten,
    extracts,
)
from tests.integration.test_relay import _SuffixSchemas, read_all


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    return prepared_with_jip(runtime)


def rows(rt: Runtime) -> dict[uuid.UUID, dict[str, Any]]:
    """The outbox by message id, the extracts caught up first."""
    for e in extracts(rt):
        rt.projector.fresh(e)
    with psycopg.connect(rt.database_url) as conn:
        found = conn.execute(
            "SELECT message_id, recipient, kind, key, payload, student_id, "
            "redacted_at FROM outbox ORDER BY seq"
        ).fetchall()
    return {
        r[0]: dict(
            zip(("to", "kind", "key", "payload", "about", "gone"), r[1:], strict=True)
        )
        for r in found
    }


def test_a_forgotten_persons_messages_are_redacted_in_place(rt: Runtime) -> None:
    a_year(rt)
    before = rows(rt)
    jip_id = student_id(rt, JIP["bsn"])
    theirs = {k for k, m in before.items() if m["about"] == jip_id}
    # Every kind of message about one person names them.
    assert {before[k]["kind"] for k in theirs} >= {
        "inschrijvingen",
        "kinderbijslag",
        "verhuizingen",
    }
    rt.registry.forget(jip_id, utc(2032, 2, 1))
    after = rows(rt)
    assert set(before) <= set(after)  # rows are kept, with their ids
    redacted = {k: m for k, m in after.items() if m["gone"] is not None}
    assert theirs <= set(redacted)
    # Payload, key and student id are gone; the time is the forgetting's.
    assert all(m["payload"] == {} and m["about"] is None for m in redacted.values())
    assert {m["key"] for m in redacted.values()} == {"vergeten"}
    assert {m["gone"] for m in redacted.values()} == {utc(2032, 2, 1)}
    # The forget messages are whole and not redacted: they must still go out.
    kept = {k: m for k, m in after.items() if m["kind"] == "vergeten"}
    assert len(kept) == 5
    # They name no stream: a number beside its id would link them again.
    assert all(m["gone"] is None and m["about"] is None for m in kept.values())
    # No row holds the BSN or birth date but the forget messages.
    rest = str([m for k, m in after.items() if k not in kept])
    assert JIP["bsn"] not in rest and JIP["geboortedatum"] not in rest
    # Anna's messages are untouched.
    annas = {k for k, m in before.items() if ANNA["bsn"] in str(m)}
    assert annas and all(after[k] == before[k] for k in annas)


def test_messages_redacted_before_the_relay_came_are_never_sent(
    rt: Runtime, kafka_bootstrap: str
) -> None:
    a_year_then_forgotten(rt)
    sent = relay_everything(rt, kafka_bootstrap)
    after = rows(rt)
    gone = {str(k) for k, m in after.items() if m["gone"] is not None}
    assert gone and not gone & sent.ids
    assert sent.ids == {str(k) for k, m in after.items() if m["gone"] is None}
    assert sent.relay.skipped == len(gone)
    assert sent.relay.lag() == 0
    # A redacted message is passed over, not parked as breaking its schema.
    with psycopg.connect(rt.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM outbox_refused").fetchone() == (0,)


def test_what_was_relayed_before_the_forgetting_is_never_sent_again(
    rt: Runtime, kafka_bootstrap: str
) -> None:
    a_year(rt)
    first = relay_everything(rt, kafka_bootstrap)
    jip_id = student_id(rt, JIP["bsn"])
    theirs = {str(k) for k, m in rows(rt).items() if m["about"] == jip_id}
    assert theirs and theirs <= first.ids  # sent while Jip was known
    rt.registry.forget(jip_id, utc(2032, 2, 1))
    after = rows(rt)
    first.retopic(rt)
    sent = read_ids(first, first.relay.run_once)
    forget = {str(k) for k, m in after.items() if m["kind"] == "vergeten"}
    assert len(forget) == 5 and forget <= sent
    assert not (sent - forget) & theirs  # of Jip's, the forget messages only
    # Messages about Jip decided after the first relay (months that passed
    # before the forgetting) were redacted before they were sent: never sent.
    late = {k for k in gone_ids(after) if k not in first.ids}
    assert first.relay.skipped == len(late)
    assert not late & sent
    # A republish passes over the redacted messages, and sends the forget one.
    resent = read_ids(first, lambda: first.relay.republish("gm0014"))
    gone = gone_ids(after)
    assert gone and not resent & gone
    gm_forget = {str(k) for k, m in after.items() if m["to"] == "gm0014"} & forget
    assert gm_forget and gm_forget <= resent
    in_gm = {str(k) for k, m in after.items() if m["to"] == "gm0014"}
    assert first.relay.skipped == len(late) + len(in_gm & gone)


def test_a_rebuild_after_forgetting_inserts_nothing(rt: Runtime) -> None:
    a_year_then_forgotten(rt)
    before = rows(rt)
    for e in extracts(rt):
        rt.projector.rebuild(e)
    assert rows(rt) == before


def gone_ids(outbox: dict[uuid.UUID, dict[str, Any]]) -> set[str]:
    return {str(k) for k, m in outbox.items() if m["gone"] is not None}


class Relayed:
    """A relay onto topics of the test's own (the broker is the session's)."""

    def __init__(self, relay: Relay, bootstrap: str, suffix: str) -> None:
        self.relay, self.bootstrap, self.suffix = relay, bootstrap, suffix
        self.topics: list[str] = []
        self.ids: set[str] = set()

    def retopic(self, rt: Runtime) -> None:
        """Move what the outbox holds onto the test's topics."""
        with psycopg.connect(rt.database_url) as conn:
            conn.execute(
                "UPDATE outbox SET topic = topic || %s WHERE topic NOT LIKE %s",
                ("." + self.suffix, "%." + self.suffix),
            )
            self.topics = sorted(
                r[0] for r in conn.execute("SELECT DISTINCT topic FROM outbox")
            )
        ensure_topics(self.bootstrap, self.topics)


def relay_everything(rt: Runtime, bootstrap: str) -> Relayed:
    """Relay the whole outbox; what was sent."""
    rows(rt)
    relay = Relay(rt.database_url, producer(bootstrap), _SuffixSchemas(), window=7)
    relayed = Relayed(relay, bootstrap, f"t{uuid.uuid4().hex[:6]}")
    relayed.retopic(rt)
    relayed.ids = read_ids(relayed, relay.run_once)
    return relayed


def read_ids(relayed: Relayed, send: Callable[[], int]) -> set[str]:
    """The ids of the records `send` put on the test's topics (counted, since a
    republish sends ids that are there already)."""
    before = Counter(ce_ids(read_all_of(relayed)))
    count = send()
    added = Counter(ce_ids(read_all_of(relayed))) - before
    assert added.total() == count
    return set(added)


def ce_ids(records: list[Any]) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in records]


def read_all_of(relayed: Relayed) -> list[Any]:
    return read_all(relayed.bootstrap, relayed.topics)
