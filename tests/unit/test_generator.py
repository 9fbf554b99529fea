"""The synthetic year generator: deterministic, contract-shaped, self-consistent."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from stdnum.nl import bsn

from registry.domain.values import Bsn, Postcode
from registry.intake.reference_files import parse_schools
from registry.intake.wire import BatchRefused, parse_batch
from registry.simulation.generator import generate
from registry.simulation.generator.batches import chunks
from registry.simulation.generator.people import BsnCounter

BRIN = re.compile(r"[0-9]{2}[A-Z0-9]{2}")


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("year")
    return out, generate(7, "tiny", out)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _schedule(out: Path) -> list[dict[str, Any]]:
    return _lines(out / "schedule.jsonl")


def test_same_seed_gives_identical_files(
    year: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, expected = year
    again = generate(7, "tiny", tmp_path)
    assert again == expected
    assert _files(tmp_path) == _files(out)
    other = generate(8, "tiny", tmp_path / "other")
    assert _files(tmp_path / "other") != _files(out)
    assert other["seed"] == 8


def _check_record(m: dict[str, Any]) -> None:
    assert m["soort"] in ("I", "W") and m["mutatie"] in ("T", "A", "U", "V")
    s = m["leerling"]
    assert (s["postcode"] is None) != (s["landcode"] is None)
    assert s["onderwijsnummer"] is None
    assert (s["bsn"] is None) == (s["uitgebreid"] is not None)
    if s["bsn"] is not None:
        Bsn(s["bsn"])
    if s["postcode"] is not None:
        Postcode(s["postcode"])
    assert s["geslacht"] in ("M", "V")
    if m["soort"] == "W":
        assert m["mutatie"] == "A" and set(m["wijziging"]) == {"oud", "nieuw"}
        return
    p = m["inschrijving"]
    assert p["vestiging"] and p["ingangsdatum"] and p["elementcode"]
    if m["mutatie"] == "U":
        assert p["einddatum"] >= p["ingangsdatum"]


def _check_batch(raw: bytes, refused: bool) -> dict[str, Any]:
    b = json.loads(raw)
    assert b["format"] == "bron-vo-batch/1" and BRIN.fullmatch(b["brin"])
    assert b["aanleverpunt"] == 0 and 1 <= b["batchnummer"] <= 999
    assert b["schooljaar"] in ("2026-2027", "2027-2028")
    if b["soort"] == "ACCOUNTANTSMUTATIE":
        assert b["verantwoordelijke"] == "ACCOUNTANT"
    numbers = [m["meldingnummer"] for m in b["meldingen"]]
    assert 1 <= len(numbers) <= 100_000 and len(set(numbers)) == len(numbers)
    for m in b["meldingen"]:
        _check_record(m)
    if refused:
        with pytest.raises(BatchRefused):
            parse_batch(raw)
    else:
        assert b["soort"] in ("INSCHRIJVING", "ACCOUNTANTSMUTATIE")
        parse_batch(raw)
    return b


def test_batches_follow_the_contract(year: tuple[Path, dict[str, Any]]) -> None:
    out, expected = year
    submits = [op for op in _schedule(out) if op["op"] == "submit"]
    files = sorted(p.name for p in (out / "batches").iterdir())
    assert sorted(Path(op["file"]).name for op in submits) == files
    assert len(files) == expected["batches"]
    records, keys = 0, Counter()
    for op in submits:
        raw = (out / op["file"]).read_bytes()
        b = _check_batch(raw, op.get("expect") == "refused")
        keys[b["brin"], b["schooljaar"], b["batchnummer"]] += 1
        if "expect" not in op:
            records += len(b["meldingen"])
    assert records == expected["records"]
    assert sum(expected["final_status"].values()) == records
    # only the refused copy and the re-delivery share a key with another batch
    assert sum(n - 1 for n in keys.values()) == 2
    again = [op for op in submits if op.get("expect") == "redelivery"]
    assert len(again) == 1 and expected["redeliveries"] == 1
    originals = [op for op in submits if "expect" not in op]
    bodies = {(out / op["file"]).read_bytes() for op in originals}
    assert (out / again[0]["file"]).read_bytes() in bodies


def test_schedule_is_in_time_order(year: tuple[Path, dict[str, Any]]) -> None:
    out, _ = year
    ops = _schedule(out)
    times = [datetime.fromisoformat(op["at"]) for op in ops]
    assert all(t.utcoffset() is not None for t in times)
    assert times == sorted(times)
    assert times[0] >= datetime.fromisoformat("2026-07-01T00:00:00+00:00")
    assert times[-1] <= datetime.fromisoformat("2027-08-31T23:59:59+00:00")
    assert [op["op"] for op in ops[:2]] == ["schools-load", "population-load"]
    outages = [op["available"] for op in ops if op["op"] == "population-outage"]
    assert outages == [False, True, False, True]
    for op in ops:
        if op["op"] == "assurance" and "exclusions" in op:
            for line in _lines(out / op["exclusions"]):
                assert line["reden"] in ("verzuim", "indicatie")
                Bsn(line["leerling"]["bsn"])


def test_reference_files(year: tuple[Path, dict[str, Any]]) -> None:
    out, expected = year
    persons = _lines(out / "population.jsonl")
    assert len(persons) == expected["persons"]
    bsns = [p["bsn"] for p in persons]
    assert len(set(bsns)) == len(bsns)
    for p in persons:
        assert str(Bsn(p["bsn"])) == p["bsn"] and not p["bsn"].startswith("10")
        assert (p["postcode"] is None) != (p["landcode"] is None)
    assert any(p["geheim"] for p in persons) and any(p["landcode"] for p in persons)
    text = (out / "schools.jsonl").read_text("utf-8").splitlines()
    schools = parse_schools(text)
    assert len(schools) == expected["schools"] == 3
    assert sum(len(s.vestigingen) for s in schools) == expected["vestigingen"]


def test_planted_counts_match_the_signals(year: tuple[Path, dict[str, Any]]) -> None:
    _, expected = year
    planted, signals = expected["planted"], expected["signals"]
    assert expected["final_status"]["W"] == 0
    rejected = planted["typo"] + planted["stopped_deletions"]
    assert expected["final_status"]["A"] == rejected
    assert signals["753"] == planted["typo"]
    assert signals["X140"] == planted["stopped_deletions"] >= 1
    assert signals["755"] == planted["found"] + planted["border"]
    pairs = {
        "757": "unknown",
        "770": "postcode",
        "956": "secret",
        "X121": "unlicensed",
        "X130": "double",
        "X131": "late_leavers",
        "X132": "long_waits",
        "X150": "pro_old",
    }
    for code, case in pairs.items():
        assert signals[code] == planted[case] >= 1, code


def test_orderings_that_once_broke_rules_are_planted(
    year: tuple[Path, dict[str, Any]],
) -> None:
    out, expected = year
    for case in ("arrivals_first", "reopened", "stopped_deletions", "next_year"):
        assert expected["planted"][case] >= 1, case
    labelled: Counter[str] = Counter()
    for op in _schedule(out):
        if op["op"] == "submit":
            b = json.loads((out / op["file"]).read_bytes())
            late = op["at"] >= "2027-06"
            labelled[b["schooljaar"]] += late
            if b["schooljaar"] == "2027-2028":
                assert late, "a next-year batch comes after the stop"
    assert labelled["2027-2028"] >= 2  # the deletions and the late intake


def test_helpers() -> None:
    assert [len(c) for c in chunks(list(range(250)), 100)] == [100, 100, 50]
    counter = BsnCounter()
    numbers = [counter() for _ in range(500)]
    assert len(set(numbers)) == 500
    assert all(str(Bsn(n)) == n for n in numbers)


@pytest.mark.parametrize("start", [20_000_000, 20_009_990, 29_999_995])
def test_the_counter_gives_every_valid_bsn_in_order(start: int) -> None:
    """Across the tables' 4-digit groups: each number stdnum's 11-proof
    accepts, from `start` on, and no other."""
    counter = BsnCounter(start)
    given = [counter() for _ in range(40)]
    valid = [
        f"{body:08d}{check}"
        for body in range(start, start + 60)
        for check in range(10)
        if bsn.is_valid(f"{body:08d}{check}")
    ][:40]
    assert given == valid


def test_ready_comes_before_the_batches_and_changes_no_file(
    year: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, expected = year
    seen: list[set[str]] = []

    def ready() -> None:
        seen.append(set(_files(tmp_path)))

    assert generate(7, "tiny", tmp_path, ready) == expected
    assert seen == [{"schools.jsonl", "population.jsonl", "schedule.jsonl"} | {
        name for name in _files(out) if name.startswith("exclusions/")
    }]
    assert _files(tmp_path) == _files(out)
