"""What CBS and the Inspectorate receive links back to nobody without their key.

The attacker here has the source code (the public uuid5 namespaces, the old
message-id scheme), every BSN of the year, and every message the pseudonymised
recipients got, with the log positions besides. Two installations playing the
same year under different keys share no identifier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from registry.bootstrap import bootstrap, projections
from registry.config import Settings
from registry.domain import ids
from registry.projections.extracts.base import ExtractProjection
from registry.simulation.generator import generate
from registry.simulation.year import play

PSEUDONYMISED = ("cbs", "inspectie")
# The message-id namespace of the old scheme, public in the repository's history.
OLD_NAMESPACE = uuid.UUID("3b0d9f5e-8a41-4f0c-9d7e-5c2a61e0b7a4")
Outbox = list[dict[str, Any]]


def _installation(
    server_url: str, state: Path, year: Path, key: str
) -> tuple[Outbox, list[str]]:
    """Play the year on a database of its own under `key`; its pseudonymised
    outbox and the BSNs it holds."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    settings = Settings(
        database_url=SecretStr(make_conninfo(server_url, dbname=name)),
        clock="simulated",
        state_dir=state,
        pseudonym_keys={r: SecretStr(f"{key}-{r}") for r in PSEUDONYMISED},
    )
    try:
        with bootstrap(settings) as rt:
            play(rt, year)
            for p in projections(settings):
                if isinstance(p, ExtractProjection):  # every recipient's rules
                    rt.projector.fresh(p)
            with psycopg.connect(rt.database_url) as conn:
                rows = conn.execute(
                    "SELECT message_id::text, recipient, kind, key, payload, "
                    "source_position FROM outbox WHERE recipient = ANY(%s)",
                    (list(PSEUDONYMISED),),
                ).fetchall()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    fields = ("message_id", "recipient", "kind", "key", "payload", "position")
    return [dict(zip(fields, r, strict=True)) for r in rows], _bsns(year)


def _bsns(year: Path) -> list[str]:
    """Every BSN of the year: the population register's (the attacker's list)."""
    lines = (year / "population.jsonl").read_text(encoding="utf-8").splitlines()
    return sorted(json.loads(line)["bsn"] for line in lines if line.strip())


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("year")
    generate(1, "tiny", path)
    return path


@pytest.fixture(scope="module")
def two(
    server_url: str, year: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[tuple[Outbox, list[str]], tuple[Outbox, list[str]]]:
    first = _installation(server_url, tmp_path_factory.mktemp("a"), year, "first")
    second = _installation(server_url, tmp_path_factory.mktemp("b"), year, "second")
    return first, second


def _identifiers(outbox: Outbox) -> set[str]:
    """Every identifier a recipient sees: message ids, keys, payload pseudonyms."""
    seen: set[str] = set()
    for m in outbox:
        seen.add(m["message_id"])
        seen.add(m["key"])
        payload = m["payload"]
        if "pseudoniem" in payload:
            seen.add(payload["pseudoniem"])
        for e in payload.get("inschrijvingen", []):
            seen.add(e["pseudoniem"])
    return seen


def _candidates(bsn: str, outbox: Outbox) -> set[str]:
    """What someone with the source and a BSN can derive, for every (brin,
    ingangsdatum) the messages show and every position and kind they carry."""
    student = ids.legacy_student_id(bsn)  # ids are random now
    derived = {
        bsn,
        str(student),
        hashlib.sha256(bsn.encode()).hexdigest(),
        hashlib.sha256(bsn.encode()).hexdigest()[:32],
        hmac.new(b"", bsn.encode(), hashlib.sha256).hexdigest()[:32],
    }
    for m in outbox:
        p = m["payload"]
        if "ingangsdatum" not in p:
            continue
        enrolment = ids.enrolment_id(
            student, p["brin"], date.fromisoformat(p["ingangsdatum"])
        )
        derived.add(str(enrolment))
        derived.add(
            str(
                uuid.uuid5(
                    OLD_NAMESPACE,
                    f"{m['recipient']}/{m['position']}/{m['kind']}/{enrolment}",
                )
            )
        )
    return derived


def test_the_source_and_every_bsn_link_no_message_to_a_person(
    two: tuple[tuple[Outbox, list[str]], tuple[Outbox, list[str]]],
) -> None:
    (outbox, bsns), _ = two
    assert bsns and outbox  # the year has people and the recipients got messages
    seen = _identifiers(outbox)
    text = json.dumps([m["payload"] for m in outbox])
    linked = [b for b in bsns if _candidates(b, outbox) & seen or b in text]
    assert linked == []


def test_two_installations_with_different_keys_share_no_identifier(
    two: tuple[tuple[Outbox, list[str]], tuple[Outbox, list[str]]],
) -> None:
    (first, _), (second, _) = two
    assert len(first) == len(second) > 0  # the same year, the same messages
    common = _identifiers(first) & _identifiers(second)
    brins = {m["payload"]["brin"] for m in first}  # schools are public, not people
    assert common - brins == set()
