"""The population register (GBA/BRP) behind a port, with a synthetic stand-in in
PostgreSQL loaded by `registry population load` (contract.md, reference data)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Annotated, Any, Protocol

import psycopg
from psycopg.rows import dict_row
from pydantic import AfterValidator, BaseModel, ConfigDict

from registry.domain.values import check_address, checked_bsn, padded_bsn
from registry.infrastructure.pools import connect
from registry.intake.reference_files import stream_json_text_lines

NameKey = tuple[str, str, str, date, str]  # surname, prefix, first names, birth, sex

COLUMNS = (
    "bsn",
    "achternaam",
    "voorvoegsel",
    "voornamen",
    "geboortedatum",
    "geslacht",
    "straatnaam",
    "huisnummer",
    "huisnummertoevoeging",
    "postcode",
    "plaatsnaam",
    "gemeente",
    "landcode",
    "geheim",
)


class RegisterUnavailable(Exception):
    """The population register cannot be consulted now; records wait."""


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bsn: Annotated[str, AfterValidator(padded_bsn)]
    achternaam: str
    voorvoegsel: str | None = None
    voornamen: str
    geboortedatum: date
    geslacht: str
    straatnaam: str | None = None
    huisnummer: int | None = None
    huisnummertoevoeging: str | None = None
    postcode: str | None = None
    plaatsnaam: str | None = None
    gemeente: str | None = None
    landcode: str | None = None
    geheim: bool = False


@dataclass(frozen=True)
class Person:
    bsn: str
    achternaam: str
    voorvoegsel: str | None
    voornamen: str
    geboortedatum: date
    geslacht: str
    postcode: str | None
    landcode: str | None
    gemeente: str | None
    geheim: bool

    @property
    def name_key(self) -> NameKey:
        return name_key(
            self.achternaam,
            self.voorvoegsel,
            self.voornamen,
            self.geboortedatum,
            self.geslacht,
        )


def name_key(
    surname: str, prefix: str | None, first_names: str, birth: date, sex: str
) -> NameKey:
    return (
        surname.strip().lower(),
        (prefix or "").strip().lower(),
        " ".join(first_names.lower().split()),
        birth,
        sex,
    )


class PopulationRegister(Protocol):
    def by_bsn(self, bsns: Collection[str]) -> dict[str, Person]: ...
    def by_name(self, keys: Collection[NameKey]) -> dict[NameKey, list[Person]]: ...


def _person_in(line: str) -> PersonIn:
    person = PersonIn.model_validate_json(line)
    checked_bsn(person.bsn)
    check_address(person.postcode, person.landcode)
    return person


def parse_persons(lines: Iterable[str]) -> list[PersonIn]:
    """A register's million lines: pydantic reads each line's JSON itself."""
    return list(stream_persons(lines))


def stream_persons(lines: Iterable[str]) -> Iterator[PersonIn]:
    """Each person as their line is read, the refusal of a faulty file at its
    end (`stream_json_text_lines`): a load can send them as they come."""
    return stream_json_text_lines(lines, _person_in)


class PostgresPopulationRegister:
    def __init__(self, url: str) -> None:
        self.url = url

    def _conn(self) -> AbstractContextManager[psycopg.Connection[dict[str, Any]]]:
        return connect(self.url, dict_row)

    def _read(self) -> AbstractContextManager[psycopg.Connection[dict[str, Any]]]:
        """For reads, which need no transaction around them."""
        return connect(self.url, dict_row, autocommit=True)

    def set_available(self, available: bool, at: datetime) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO population_status VALUES (1, %s, %s) ON CONFLICT (id) DO "
                "UPDATE SET available = excluded.available, since = excluded.since",
                (available, at),
            )

    def _check_available(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        row = conn.execute("SELECT available FROM population_status").fetchone()
        if row is not None and not row["available"]:
            raise RegisterUnavailable("the population register is unavailable")

    def by_bsn(self, bsns: Collection[str]) -> dict[str, Person]:
        with self._read() as conn:
            self._check_available(conn)
            rows = conn.execute(
                "SELECT * FROM population_persons WHERE bsn = ANY(%b::text[])",
                (list(bsns),),
            ).fetchall()
        return {r["bsn"]: _person(r) for r in rows}

    def by_name(self, keys: Collection[NameKey]) -> dict[NameKey, list[Person]]:
        if not keys:
            return {}
        with self._read() as conn:
            self._check_available(conn)
            surnames = sorted({k[0] for k in keys})
            rows = conn.execute(
                "SELECT * FROM population_persons WHERE lower(achternaam) = ANY(%s)",
                (surnames,),
            ).fetchall()
        found: dict[NameKey, list[Person]] = {k: [] for k in keys}
        for row in rows:
            person = _person(row)
            if person.name_key in found:
                found[person.name_key].append(person)
        return found

    def load(self, persons: Iterable[PersonIn], at: datetime) -> dict[str, int]:
        """Idempotent: a line equal to the stored person changes nothing; a changed
        one replaces it and the change is recorded. A later line for the same
        BSN wins. An iterator that raises (a faulty file found at its end)
        leaves the register as it was."""
        with self._conn() as conn, conn.cursor() as cur:
            # Loads one at a time; readers go on reading.
            cur.execute("LOCK TABLE population_persons IN SHARE ROW EXCLUSIVE MODE")
            empty = cur.execute(
                "SELECT NOT EXISTS (SELECT FROM population_persons) AS empty"
            ).fetchone()
            assert empty is not None
            if empty["empty"]:
                read: list[PersonIn] = []
                counts = _first_load(conn, cur, persons, read, at)
                if counts is not None:
                    return counts
                persons = read  # a BSN twice: the whole file, as any load
            return _load(cur, {p.bsn: p for p in persons}, at)


class _Repeated(Exception):
    """A BSN on a second line, in a load straight into the empty register."""


def _first_load(
    conn: psycopg.Connection[dict[str, Any]],
    cur: psycopg.Cursor[dict[str, Any]],
    persons: Iterable[PersonIn],
    read: list[PersonIn],
    at: datetime,
) -> dict[str, int] | None:
    """The empty register's first load, copied straight into it as the persons
    are read (the server's inserts overlap the reading); None, with nothing
    written and every person in `read`, when a BSN comes twice."""
    seen: set[str] = set()
    people = iter(persons)
    try:
        with conn.transaction(), cur.copy(_COPY_PERSONS) as copy:
            for p in people:
                read.append(p)
                if p.bsn in seen:
                    raise _Repeated
                seen.add(p.bsn)
                copy.write_row((*_row(p), at))
    except _Repeated:
        read.extend(people)
        return None
    return {"persons": len(seen), "added": len(seen), "changed": 0, "unchanged": 0}


def _load(
    cur: psycopg.Cursor[dict[str, Any]], latest: dict[str, PersonIn], at: datetime
) -> dict[str, int]:
    cur.execute(
        f"CREATE TEMP TABLE incoming ON COMMIT DROP AS SELECT {', '.join(COLUMNS)} "  # noqa: S608
        "FROM population_persons WITH NO DATA"
    )
    with cur.copy(f"COPY incoming ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for p in latest.values():
            copy.write_row(_row(p))
    cols = ", ".join(COLUMNS)
    cur.execute(
        f"INSERT INTO population_changes (bsn, recorded_at, old, new) "  # noqa: S608
        f"SELECT i.bsn, %s, to_jsonb(p) - 'recorded_at', to_jsonb(i) - 'recorded_at' "
        f"FROM incoming i JOIN population_persons p USING (bsn) "
        f"WHERE ({', '.join('p.' + c for c in COLUMNS)}) IS DISTINCT FROM "
        f"({', '.join('i.' + c for c in COLUMNS)})",
        (at,),
    )
    changed = cur.rowcount
    cur.execute(
        f"INSERT INTO population_persons ({cols}, recorded_at) "  # noqa: S608
        f"SELECT {cols}, %s FROM incoming ON CONFLICT (bsn) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        + ", recorded_at = excluded.recorded_at WHERE ("
        + ", ".join(f"population_persons.{c}" for c in COLUMNS)
        + ") IS DISTINCT FROM ("
        + ", ".join(f"excluded.{c}" for c in COLUMNS)
        + ")",
        (at,),
    )
    written = cur.rowcount
    return {
        "persons": len(latest),
        "added": written - changed,
        "changed": changed,
        "unchanged": len(latest) - written,
    }


_row = attrgetter(*COLUMNS)
_COPY_PERSONS = f"COPY population_persons ({', '.join(COLUMNS)}, recorded_at) FROM STDIN"


def _person(row: dict[str, Any]) -> Person:
    return Person(
        row["bsn"],
        row["achternaam"],
        row["voorvoegsel"],
        row["voornamen"],
        row["geboortedatum"],
        row["geslacht"],
        row["postcode"],
        row["landcode"],
        row["gemeente"],
        row["geheim"],
    )

