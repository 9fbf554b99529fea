"""The recipient's store: its own PostgreSQL schema, made by the consumer itself
(plain tables, no extension, nothing of the registry's).

- `messages`: every message once, by its `ce_id`.
- `parked`: what could not be read, with the reason, once per record.
- `forgotten`: the people a `vergeten` message named; what arrives about them
  later (topics are not ordered with each other) is not kept.
- the fold's tables (consumers/fold.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from consumers import fold
from consumers.records import Message, Unreadable

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.messages (
  message_id uuid PRIMARY KEY, topic text NOT NULL, kind text NOT NULL,
  key text, payload jsonb NOT NULL, source_position bigint,
  kafka_partition int NOT NULL, kafka_offset bigint NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {schema}.parked (
  topic text NOT NULL, kafka_partition int NOT NULL, kafka_offset bigint NOT NULL,
  reason text NOT NULL, key bytea, value bytea, headers jsonb NOT NULL,
  parked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, kafka_partition, kafka_offset));
CREATE TABLE IF NOT EXISTS {schema}.forgotten (
  identifier text PRIMARY KEY, message_id uuid NOT NULL, datum date NOT NULL);
"""
_INSERT = """
INSERT INTO {} (message_id, topic, kind, key, payload, source_position,
  kafka_partition, kafka_offset)
SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::text[], %b::jsonb[],
  %b::bigint[], %b::int[], %b::bigint[])
ON CONFLICT DO NOTHING RETURNING message_id::text
"""
_FORGET_MESSAGES = """
DELETE FROM {} WHERE kind <> 'vergeten' AND (payload->>'bsn' = ANY(%s)
  OR payload->>'onderwijsnummer' = ANY(%s) OR payload->>'pseudoniem' = ANY(%s))
"""
# A foto keeps its other pupils.
_FORGET_IN_FOTOS = """
UPDATE {m} SET payload = jsonb_set(payload, '{{inschrijvingen}}',
  (SELECT coalesce(jsonb_agg(e), '[]'::jsonb)
   FROM jsonb_array_elements(payload->'inschrijvingen') e
   WHERE NOT (e->>'pseudoniem' = ANY(%s))))
WHERE kind = 'fotos' AND EXISTS (
  SELECT 1 FROM jsonb_array_elements(payload->'inschrijvingen') e
  WHERE e->>'pseudoniem' = ANY(%s))
"""


@dataclass
class Outcome:
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0  # about someone already forgotten: not kept


def create_tables(conn: psycopg.Connection[Any], schema: str, groups: set[str]) -> None:
    """Made if missing; under a lock, so consumers of one group starting at
    once do not race to make the same table."""
    folds = sorted({t for g in groups for t in fold.tables(g)})
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))
        for ddl in [DDL, *(fold.DDL[t] for t in folds)]:
            conn.execute(SQL(ddl).format(schema=Identifier(schema)))


def store(
    conn: psycopg.Connection[Any], schema: str, messages: list[Message]
) -> Outcome:
    """Store and fold the messages, in the caller's transaction."""
    out = Outcome()
    gone = _forgotten(
        conn, schema, {n for m in messages for n in fold.names(m.payload)}
    )
    kept = []
    for m in messages:
        named = fold.names(m.payload)
        if m.kind == "vergeten":
            gone |= named
        elif named & gone:
            out.dropped += 1
            continue
        kept.append(_without(m, gone) if m.kind == "fotos" else m)
    new = _insert(conn, schema, kept)
    out.stored, out.duplicates = len(new), len(kept) - len(new)
    ops: list[fold.Op] = []
    for m in kept:
        if m.message_id not in new:
            continue  # a duplicate: applied when it first came
        new.discard(m.message_id)
        if m.kind == "vergeten":
            ops += _forget(schema, m)
        else:
            ops += fold.ops(schema, m)
    if ops:
        with conn.pipeline(), conn.cursor() as cur:
            # A run of the same statement in one executemany: in order, and
            # without converting the statement again for each message.
            for _, run in itertools.groupby(ops, key=lambda op: id(op[0])):
                ops_of_run = list(run)
                sql, rows = ops_of_run[0][0], [params for _, params in ops_of_run]
                one = fold.as_one(schema, sql, rows)
                if one is not None:
                    cur.execute(*one)
                else:
                    cur.executemany(sql, rows)
    return out


def park(conn: psycopg.Connection[Any], schema: str, bad: list[Unreadable]) -> None:
    rows = [
        (
            u.record.topic,
            u.record.partition,
            u.record.offset,
            _text(u.reason),
            u.record.key,
            u.record.value if isinstance(u.record.value, bytes) else None,
            _text(json.dumps([[k, _shown(v)] for k, v in u.record.headers or []])),
        )
        for u in bad
    ]
    sql = SQL(
        "INSERT INTO {} (topic, kafka_partition, kafka_offset, reason, key, value, "
        "headers) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ).format(Identifier(schema, "parked"))
    with conn.cursor() as cur:
        cur.executemany(sql, rows)


def _forgotten(conn: psycopg.Connection[Any], schema: str, named: set[str]) -> set[str]:
    if not named:
        return set()
    sql = SQL("SELECT identifier FROM {} WHERE identifier = ANY(%s)")
    rows = conn.execute(sql.format(Identifier(schema, "forgotten")), (sorted(named),))
    return {r[0] for r in rows}


def _insert(
    conn: psycopg.Connection[Any], schema: str, kept: list[Message]
) -> set[str]:
    if not kept:
        return set()
    columns = (
        [m.message_id for m in kept],
        [m.topic for m in kept],
        [m.kind for m in kept],
        [m.key for m in kept],
        [m.value for m in kept],
        [m.source_position for m in kept],
        [m.partition for m in kept],
        [m.offset for m in kept],
    )
    sql = SQL(_INSERT).format(Identifier(schema, "messages"))
    return {r[0] for r in conn.execute(sql, columns)}


def _forget(schema: str, message: Message) -> list[fold.Op]:
    """Everything held of the person goes, in this transaction; the `vergeten`
    message itself stays, as the record that it was done."""
    gone = sorted(fold.names(message.payload))
    datum = message.payload["datum"]
    messages = Identifier(schema, "messages")
    return [
        *(
            (
                SQL(
                    "INSERT INTO {} (identifier, message_id, datum) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING"
                ).format(Identifier(schema, "forgotten")),
                (name, message.message_id, datum),
            )
            for name in gone
        ),
        (SQL(_FORGET_MESSAGES).format(messages), (gone, gone, gone)),
        (SQL(_FORGET_IN_FOTOS).format(m=messages), (gone, gone)),
        *fold.forget(schema, message.group, set(gone)),
    ]


def _without(message: Message, gone: set[str]) -> Message:
    """A foto that came after some of its pupils were forgotten, without them."""
    entries = message.payload.get("inschrijvingen", [])
    if not gone or not any(e.get("pseudoniem") in gone for e in entries):
        return message
    payload = {
        **message.payload,
        "inschrijvingen": [e for e in entries if e.get("pseudoniem") not in gone],
    }
    return dataclasses.replace(message, payload=payload, value=json.dumps(payload))


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    return bytes(value).decode("utf-8", errors="backslashreplace")


def _text(value: str) -> str:
    """PostgreSQL's text and jsonb take no NUL character (JSON escapes it as
    \\u0000): a park row must never be refused, or the batch could not commit."""
    return value.replace("\x00", "\\x00").replace("\\u0000", "\\\\x00")
