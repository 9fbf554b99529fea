"""The registry runs its four recipients as one projection over one copy of the
students and periods (`extracts`). Recipients rely on it sending exactly what
each recipient's rules send on their own: the same message ids (so a switch
from the separate projections re-sends nothing), payloads, keys and order."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime, projections
from registry.projections.extracts.group import Extracts
from registry.projections.extracts.page_state import PageState
from tests.conftest import utc
from tests.intake_helpers import (
    JIP,
    prepared_with_jip,
    student_id,
)
from tests.integration.test_forget_messages import a_year, a_year_then_forgotten


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    return prepared_with_jip(runtime)


def group(rt: Runtime) -> Extracts:
    (found,) = [p for p in projections(rt.settings) if isinstance(p, Extracts)]
    return found


def sent(rt: Runtime) -> list[tuple[Any, ...]]:
    """Every outbox row but its seq, by recipient in the order it was written."""
    with psycopg.connect(rt.database_url) as conn:
        return conn.execute(
            "SELECT recipient, message_id, topic, key, kind, payload, "
            "source_position, student_id, redacted_at FROM outbox "
            "ORDER BY recipient, seq"
        ).fetchall()


def drop_extracts(rt: Runtime) -> None:
    with psycopg.connect(rt.database_url, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "SELECT schema_name FROM projection_tracking "
            "WHERE name = 'extracts' OR name LIKE 'extract\\_%'"
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute(
            "DELETE FROM projection_tracking "
            "WHERE name = 'extracts' OR name LIKE 'extract\\_%'"
        )
    clear_outbox(rt)


def clear_outbox(rt: Runtime) -> None:
    with psycopg.connect(rt.database_url) as conn:
        conn.execute("DELETE FROM outbox")


def both(rt: Runtime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What the group sends, then what the recipients alone send, from the
    same log (each kept up as the log grows, the one beside the other)."""
    extracts = group(rt)
    rt.projector.fresh(extracts)
    together = sent(rt)
    clear_outbox(rt)
    for recipient in extracts.members:
        rt.projector.fresh(recipient)
    alone = sent(rt)
    clear_outbox(rt)
    return together, alone


def test_the_group_sends_what_each_recipient_sends_alone(rt: Runtime) -> None:
    # A move, a leaver, SVB's months and an amendment (the group ran as the
    # year went), then a forgetting: what the log reads once it is forgotten
    # differs, so both are kept up before it, as a registry would.
    a_year(rt)
    together, alone = both(rt)
    assert {r[0] for r in together} >= {"cbs", "inspectie", "svb", "gm0363"}
    assert alone == together
    rt.registry.forget(student_id(rt, JIP["bsn"]), utc(2032, 2, 1))
    together, alone = both(rt)
    assert [r[4] for r in together].count("vergeten") == 5
    assert alone == together


def test_the_group_folds_each_period_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_year_then_forgotten(rt)
    drop_extracts(rt)
    folded: list[int] = []
    period_event = PageState.period_event

    def counting(self: PageState, fact: Any) -> Any:
        folded.append(fact.position)
        return period_event(self, fact)

    monkeypatch.setattr(PageState, "period_event", counting)
    rt.projector.fresh(group(rt))
    assert folded and len(folded) == len(set(folded))


def test_the_group_has_every_recipients_tables_in_one_schema(rt: Runtime) -> None:
    schema = rt.projector.fresh(group(rt))
    with psycopg.connect(rt.database_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            )
        }
    assert tables == {
        "students",
        "periods",
        "pending_leavers",
        "vsv_open",
        "pending_written",
        "told",
        "svb_status",
        "svb_clock",
    }


def test_a_group_names_each_recipient_once(rt: Runtime) -> None:
    cbs = group(rt).members[0]
    with pytest.raises(ValueError, match="names each recipient once"):
        Extracts([cbs, cbs])
    with pytest.raises(ValueError, match="names each recipient once"):
        Extracts([])
