"""The worked example: folding a recipient's messages into who is enrolled now,
in the transaction that stores each message, so each is applied exactly once.

`enrolments` (CBS, the Inspectorate, a municipality) holds every period the
recipient was told of, as it stands: keyed by the person (the pseudonym; a
municipality's onderwijsnummer, else the BSN) with the brin and the
ingangsdatum, which identify a period (contract.md). The vestiging is a column,
not part of the key: an amendment can move a period to another vestiging.
`enrolled_now` is the view of the periods that cover today. `kinderbijslag`
(SVB) holds the latest status per BSN.

| message | fold |
|---|---|
| inschrijvingen T, A, U | the period as the message gives it, new or replacing |
| inschrijvingen V | the period is deleted (it was entered in error) |
| koppelingen | the person's periods get the BSN beside the onderwijsnummer |
| verhuizingen vertrokken | the person's periods go: no news follows here |
| verhuizingen gevestigd | the periods it lists, as for T |
| kinderbijslag | the status, unless one of a later peildatum is held |
| vergeten | everything held of the person goes (see `forget`) |

Kafka keeps one person's messages of one topic in order (the relay keys them
by person or school), and a message that comes again (same `ce_id`) is not
applied again: so a period is never put back by an older message.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from psycopg.sql import SQL, Composed, Identifier

from consumers.records import Message

Op = tuple[Composed, tuple[Any, ...]]
NAMES = ("pseudoniem", "bsn", "onderwijsnummer")
ENROLMENT_GROUPS = ("cbs", "inspectie", "gemeente")

DDL = {
    "enrolments": """
CREATE TABLE IF NOT EXISTS {schema}.enrolments (
  persoon text NOT NULL, brin text NOT NULL, ingangsdatum date NOT NULL,
  vestiging text, elementcode text, leerjaar int, einddatum date,
  bsn text, onderwijsnummer text,
  message_id uuid NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (persoon, brin, ingangsdatum));
CREATE INDEX IF NOT EXISTS enrolments_bsn ON {schema}.enrolments (bsn);
CREATE OR REPLACE VIEW {schema}.enrolled_now AS
  SELECT * FROM {schema}.enrolments WHERE ingangsdatum <= current_date
  AND (einddatum IS NULL OR einddatum >= current_date);
""",
    "kinderbijslag": """
CREATE TABLE IF NOT EXISTS {schema}.kinderbijslag (
  bsn text PRIMARY KEY, peildatum date NOT NULL, ingeschreven boolean NOT NULL,
  leeftijd int NOT NULL, soort text NOT NULL, message_id uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now());
""",
}

_UPSERT = """
INSERT INTO {t} (persoon, brin, ingangsdatum, vestiging, elementcode, leerjaar,
  einddatum, bsn, onderwijsnummer, message_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (persoon, brin, ingangsdatum) DO UPDATE SET
  vestiging = excluded.vestiging, elementcode = excluded.elementcode,
  leerjaar = excluded.leerjaar, einddatum = excluded.einddatum,
  bsn = coalesce(excluded.bsn, {t}.bsn),
  onderwijsnummer = coalesce(excluded.onderwijsnummer, {t}.onderwijsnummer),
  message_id = excluded.message_id, updated_at = now()
"""
# A run of upserts as one statement: the rows' columns as arrays. Rows of
# one period must be merged first (merged): one statement may not update a
# row twice. In binary: psycopg's text arrays quote each element in Python.
_UPSERT_MANY = _UPSERT.replace(
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
    "SELECT * FROM unnest(%b::text[], %b::text[], %b::date[], %b::text[], "
    "%b::text[], %b::int[], %b::date[], %b::text[], %b::text[], %b::uuid[])",
)
_STATUS = """
INSERT INTO {t} (bsn, peildatum, ingeschreven, leeftijd, soort, message_id)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (bsn) DO UPDATE SET peildatum = excluded.peildatum,
  ingeschreven = excluded.ingeschreven, leeftijd = excluded.leeftijd,
  soort = excluded.soort, message_id = excluded.message_id, updated_at = now()
WHERE excluded.peildatum >= {t}.peildatum
"""


_ENROLMENTS = "enrolments"


@cache
def on_table(text: str, schema: str, table: str) -> Composed:
    """A statement on one of the agency's tables (`{}` or `{t}` in `text`),
    composed once: composing it again for each message cost more than the
    rest of the message's fold."""
    name = Identifier(schema, table)
    return SQL(text).format(name, t=name)


def tables(group: str) -> list[str]:
    """The fold's tables of a recipient group."""
    if group in ENROLMENT_GROUPS:
        return ["enrolments"]
    return ["kinderbijslag"] if group == "svb" else []


def names(payload: dict[str, Any]) -> set[str]:
    """Every identifier of a person the payload carries at its top level."""
    return {v for k in NAMES if isinstance(v := payload.get(k), str)}


def person(payload: dict[str, Any]) -> str | None:
    """The key of the person in `enrolments`: one that does not change when a
    municipality's resident known by an onderwijsnummer gets a BSN."""
    found = payload.get("pseudoniem") or payload.get("onderwijsnummer")
    return found or payload.get("bsn")


def problem(message: Message) -> str | None:
    """Why the message cannot be folded (the schema lets a municipality's
    numbers both be null), or None."""
    if message.kind in ("inschrijvingen", "verhuizingen", "vergeten") and not names(
        message.payload
    ):
        return f"a {message.kind} message that names no person"
    return None


def ops(schema: str, message: Message) -> list[Op]:
    """The statements that fold one (new) message."""
    p, kind = message.payload, message.kind
    if kind == "inschrijvingen" and message.group in ENROLMENT_GROUPS:
        if p["mutatie"] == "V":
            return [_delete_period(schema, p)]
        return [_upsert(schema, p, p, message.message_id)]
    if kind == "koppelingen":
        sql = on_table("UPDATE {} SET bsn = %s WHERE persoon = %s", schema, _ENROLMENTS)
        return [(sql, (p["bsn"], p["onderwijsnummer"]))]
    if kind == "verhuizingen":
        if p["richting"] == "vertrokken":
            return [_delete_person(schema, names(p))]
        return [_upsert(schema, p, e, message.message_id) for e in p["inschrijvingen"]]
    if kind == "kinderbijslag":
        values = (
            p["bsn"],
            p["peildatum"],
            p["ingeschreven"],
            p["leeftijd"],
            p["soort"],
        )
        sql = on_table(_STATUS, schema, "kinderbijslag")
        return [(sql, (*values, message.message_id))]
    return []  # fotos and vsv are kept as messages, not folded


def as_one(schema: str, sql: Composed, rows: list[tuple[Any, ...]]) -> Op | None:
    """A run of period upserts (`rows` in the order the messages came) as one
    statement with the same outcome, or None for any other statement. One
    statement per message cost the server about a fifth more CPU in all
    (docs/benchmarks-notes.md)."""
    if sql is not on_table(_UPSERT, schema, _ENROLMENTS) or len(rows) < 2:
        return None
    columns = tuple(list(c) for c in zip(*merged(rows), strict=True))
    return on_table(_UPSERT_MANY, schema, _ENROLMENTS), columns


def merged(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Upserts of one period (person, brin, ingangsdatum) in turn, as one: the
    last one's values, but a BSN or onderwijsnummer it leaves out is the one an
    earlier one gave, as _UPSERT's coalesce keeps a stored one."""
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        key = (row[0], row[1], _day(row[2]))
        earlier = out.get(key)
        if earlier is None:
            out[key] = row
            continue
        bsn = row[7] if row[7] is not None else earlier[7]
        onr = row[8] if row[8] is not None else earlier[8]
        out[key] = (*row[:7], bsn, onr, row[9])
    return list(out.values())


def _day(value: Any) -> Any:
    """The date a text names (two spellings of one day are one period); the
    schema lets only such texts through, and the database refuses the rest."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return value


def forget(schema: str, group: str, gone: set[str]) -> list[Op]:
    """What the fold holds of people forgotten: their periods or status."""
    found = sorted(gone)
    if group in ENROLMENT_GROUPS:
        return [_delete_person(schema, gone)]
    if group == "svb":
        sql = on_table("DELETE FROM {} WHERE bsn = ANY(%s)", schema, "kinderbijslag")
        return [(sql, (found,))]
    return []


def _upsert(
    schema: str, who: dict[str, Any], period: dict[str, Any], message_id: str
) -> Op:
    values = (
        person(who),
        period["brin"],
        period["ingangsdatum"],
        period.get("vestiging"),
        period.get("elementcode"),
        period.get("leerjaar"),
        period.get("einddatum"),
        who.get("bsn"),
        who.get("onderwijsnummer"),
        message_id,
    )
    return on_table(_UPSERT, schema, _ENROLMENTS), values


def _delete_period(schema: str, p: dict[str, Any]) -> Op:
    sql = on_table(
        "DELETE FROM {} WHERE persoon = %s AND brin = %s AND ingangsdatum = %s",
        schema,
        _ENROLMENTS,
    )
    return sql, (person(p), p["brin"], p["ingangsdatum"])


def _delete_person(schema: str, gone: set[str]) -> Op:
    found = sorted(gone)
    sql = on_table(
        "DELETE FROM {} WHERE persoon = ANY(%s) OR bsn = ANY(%s) "
        "OR onderwijsnummer = ANY(%s)",
        schema,
        _ENROLMENTS,
    )
    return sql, (found, found, found)
