"""Redrive: the refused messages (`outbox_refused`) sent after a fix.

A message the relay refused (it broke its topic's schema, or was too large for
the producer) stays in the outbox and is named in `outbox_refused` with the
reason. After the fix (a corrected schema or payload, a larger size limit) a
redrive checks each again against its topic's schema: one that passes is
produced with its original id and leaves `outbox_refused` once the broker has
acknowledged it; one that still fails stays, with the reason it fails now.

A redriven message arrives after later messages with the same key: its
`ce_time` (and `source_position`, where sent) tell a consumer where it belongs.
A message about a forgotten person (redacted) is never sent: a redrive takes
it off the refused list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError

from registry.infrastructure.pools import connect
from registry.publishing.contract import TopicSchemas
from registry.publishing.relay import CE_TIME, MAX_MESSAGE_BYTES, Row

log = logging.getLogger(__name__)
PAGE = 500
# Every refused message is checked again, whatever its writer marked.
_REFUSED = (
    "SELECT o.seq, o.message_id, o.recipient, o.topic, o.key, o.kind, o.payload::text, "  # noqa: S608 - constants
    f"o.source_position, {CE_TIME}, o.redacted_at IS NOT NULL, false "
    "FROM outbox_refused r JOIN outbox o USING (seq) WHERE r.seq > %s "
    "AND (%s::text IS NULL OR o.recipient LIKE %s) ORDER BY r.seq LIMIT %s"
)


@dataclass
class Redriven:
    sent: int = 0  # produced and acknowledged (with a dry run: would be)
    redacted: int = 0  # about a forgotten person: off the list, never sent
    still_refused: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "redacted": self.redacted,
            "still_refused": self.still_refused,
        }


def redrive(
    url: str,
    schemas: TopicSchemas,
    kafka: KafkaProducer | None,
    recipients: str | None = None,
) -> Redriven:
    """Redrive the refused messages of `recipients` (a LIKE pattern; None:
    all). With no producer, a dry run: what would be sent, and what would stay
    refused and why; nothing is sent or changed."""
    done, after = Redriven(), 0
    while True:
        with connect(url) as conn:
            rows = [
                Row.of(r)
                for r in conn.execute(
                    _REFUSED, (after, recipients, recipients, PAGE)
                ).fetchall()
            ]
        if not rows:
            return done
        _page(url, schemas, kafka, rows, done)
        after = rows[-1].seq


def _page(
    url: str,
    schemas: TopicSchemas,
    kafka: KafkaProducer | None,
    rows: list[Row],
    done: Redriven,
) -> None:
    gone = [row.seq for row in rows if row.redacted]
    refused: list[tuple[Row, str]] = []
    passed: list[Row] = []
    for row in rows:
        if row.redacted:
            continue
        problem = schemas.problem_in(row.topic, row.value) or _too_large(row)
        if problem is None:
            passed.append(row)
        else:
            refused.append((row, problem))
    sent = passed if kafka is None else _send(kafka, passed, refused)
    done.sent += len(sent)
    done.redacted += len(gone)
    done.still_refused += [
        {"seq": row.seq, "topic": row.topic, "reason": reason}
        for row, reason in refused
    ]
    if kafka is not None:
        _record(url, [row.seq for row in sent] + gone, refused)


def _too_large(row: Row) -> str | None:
    if len(row.value) > MAX_MESSAGE_BYTES:
        return f"too large for the producer: {len(row.value)} bytes"
    return None


def _send(
    kafka: KafkaProducer, rows: list[Row], refused: list[tuple[Row, str]]
) -> list[Row]:
    """Produce the rows with their original ids; those the broker acknowledged.
    A failed acknowledgement raises: nothing of the page is recorded, and a
    redrive again sends it again (the consumers deduplicate by id)."""
    futures = []
    for row in rows:
        try:
            future = kafka.send(
                row.topic, key=row.key.encode(), value=row.value, headers=row.headers()
            )
        except MessageSizeTooLargeError as e:
            refused.append((row, f"too large for the producer: {e}"))
            continue
        futures.append((row, future))
    kafka.flush()
    for _, future in futures:
        future.get(timeout=30)  # flush() returning does not prove delivery
    return [row for row, _ in futures]


def _record(url: str, off: list[int], refused: list[tuple[Row, str]]) -> None:
    for row, reason in refused:
        log.warning(
            "outbox seq %d still refused for %s: %s", row.seq, row.topic, reason
        )
    with connect(url) as conn:  # one transaction
        conn.execute("DELETE FROM outbox_refused WHERE seq = ANY(%s)", (off,))
        conn.cursor().executemany(
            "UPDATE outbox_refused SET reason = %s, refused_at = now() WHERE seq = %s",
            [(reason, row.seq) for row, reason in refused],
        )
