"""The outbox: messages extract projections decide to publish, written in the
transaction of their tracking (exactly once), relayed to Kafka in `seq` order.

A message id is an HMAC, under the recipient's key, of (recipient, source event,
kind, subject): a rebuilt projection produces the same ids at the same positions,
so `ON CONFLICT DO NOTHING` on the pair keeps a rebuild from re-sending anything,
and without the key nobody can derive an id from a BSN (the subjects are ids
derived from it). Unique on the pair rather than the id alone, the index grows
at its right edge as the log does. Republishing on request re-sends the stored
messages with their original ids.

A message about one person names them (`student_id`): when the person is
forgotten, their messages are redacted in place (`redact`), never deleted, so the
id stays and a rebuild cannot insert them again (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from registry.projections.engine.sql import write_rows
from registry.projections.extracts.payloads import Payload

# What a forget message is: the one message about a forgotten person that is
# kept and sent, since it tells the recipient to forget them.
FORGET_KIND = "vergeten"
REDACTED_KEY = "vergeten"  # a redacted message's key: it is never sent
# Notified in every transaction that writes messages (delivered at its commit):
# a relay that listens is woken by it rather than by its poll.
CHANNEL = "registry_outbox"
# Why a payload (its JSON, as written) may not go to a topic, or None: the
# published contract's check, passed in by the composition root (the contract
# is a layer above).
PayloadCheck = Callable[[str, bytes], str | None]


@dataclass(slots=True)
class Message:
    """Made by a recipient's rule and written within the same page; the page
    names its person where the rule did not (base._about), in place."""

    recipient: str
    topic: str
    key: str
    kind: str
    subject: str  # what the message is about, unique per source event and kind
    payload: Payload
    source_position: int
    recorded_at: datetime
    id_key: bytes = field(repr=False, kw_only=True)  # the recipient's key
    # The one person the message is about (None: several, or a school's fact).
    student_id: uuid.UUID | None = field(default=None, kw_only=True)

    @property
    def message_id(self) -> uuid.UUID:
        return keyed_id(
            self.id_key, self.recipient, self.source_position, self.kind, self.subject
        )


def keyed_id(
    key: bytes, recipient: str, position: int, kind: str, subject: str
) -> uuid.UUID:
    text = f"{recipient}/{position}/{kind}/{subject}".encode()
    digest = hmac.new(key, text, hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def write(
    curs: Cursor[Any], messages: list[Message], check: PayloadCheck | None = None
) -> None:
    """Insert under a transaction lock, so `seq` order is commit order and the
    relay, reading past its last position, can never skip a late commit.

    With `check`, each payload is checked against its topic's schema here,
    where it was made, and marked `schema_checked` when it passes; the relay
    then sends it unchecked. One that fails is written unmarked: the relay
    checks it again and parks it with the reason, as it parks any refusal."""
    if not messages:
        return
    rows = []
    for m in messages:
        value = orjson.dumps(m.payload, default=str)
        rows.append(
            (
                m.message_id,
                m.recipient,
                m.topic,
                m.key,
                m.kind,
                value.decode(),
                m.source_position,
                m.recorded_at,
                m.student_id,
                check is not None and check(m.topic, value) is None,
            )
        )
    # The rows made (and checked) before the lock, which every writer of the
    # outbox waits for until this transaction commits.
    curs.execute("SELECT pg_advisory_xact_lock(hashtext('registry_outbox'))")
    curs.execute(SQL("NOTIFY {}").format(Identifier(CHANNEL)))
    write_rows(
        curs,
        "INSERT INTO public.outbox (message_id, recipient, topic, key, kind, payload, "
        "source_position, recorded_at, student_id, schema_checked) SELECT * FROM {rows} "
        "ON CONFLICT (source_position, message_id) DO NOTHING",
        "message_id uuid, recipient text, topic text, key text, kind text, "
        "payload jsonb, source_position bigint, recorded_at timestamptz, "
        "student_id uuid, schema_checked boolean",
        rows,
    )


def redact(curs: Cursor[Any], student_ids: list[uuid.UUID], at: datetime) -> int:
    """Empty every message about these (forgotten) people but their forget
    messages; how many. The payload goes, and the Kafka key (a municipality's
    and SVB's is the BSN, CBS's the pseudonym), and the student id (beside a
    number it would link the forgotten stream to the person again). The row and its message id stay: the
    id is what keeps a rebuild from inserting the message again. Idempotent."""
    if not student_ids:
        return 0
    curs.execute(
        "UPDATE public.outbox SET payload = '{}', key = %s, student_id = NULL, "
        "redacted_at = %s WHERE student_id = ANY(%s) AND kind <> %s",
        (REDACTED_KEY, at, student_ids, FORGET_KIND),
    )
    return curs.rowcount
