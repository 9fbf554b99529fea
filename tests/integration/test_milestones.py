"""The calendar runs itself (domain.md steps 11–15, contract.md `milestones run`,
`mutation-stop`): the stop produces the actuele foto and the signal list; the
milestones issue the voorlopige and definitieve fotos and the default stop,
each once, never a voorlopige foto before the count date."""

from __future__ import annotations

from typing import Any

import pytest

from registry.application.fotos import IssuedFoto
from registry.application.milestones import run_milestones
from registry.bootstrap import Runtime
from registry.domain.errors import IllegalTransition
from registry.domain.foto import FotoKind
from registry.domain.school_year import Stage
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    runtime.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    runtime.intake.submit(
        batch(rec(1, student(ANNA)), brin="02AB"), utc(2026, 8, 21)
    )  # Anna twice on 1 October: X130 on both lists
    return runtime


def milestones(rt: Runtime, *args: int) -> dict[str, int]:
    report = run_milestones(rt.registry, rt.fotos, utc(*args))
    assert report.refused == []
    return dict(report.done)


def stage(rt: Runtime, brin: str = "01OE") -> Stage:
    year = rt.registry.school_year(brin, SJ)
    assert year is not None
    return year.stage


def test_a_stop_on_request_issues_the_actuele_foto_and_the_signal_list(
    rt: Runtime,
) -> None:
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 5))
    rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 11, 15))
    foto = rt.fotos.stop("01OE", SJ, utc(2027, 3, 1), on_request=True)
    assert stage(rt) is Stage.CURRENT_SNAPSHOT
    assert (foto.soort, foto.versie, foto.document["controletotaal"]) == (
        FotoKind.ACTUEEL,
        1,
        2,
    )
    assert [s["code"] for s in foto.signalen or []] == ["X130"]
    stored = rt.fotos.stored("01OE", SJ, FotoKind.ACTUEEL)
    assert stored.signalen == foto.signalen and stored.content_hash == foto.content_hash
    # The assurance report needs no further step.
    rt.registry.report_assurance("01OE", SJ, [], [], utc(2027, 6, 20))


def test_the_calendar_runs_each_milestone_once_for_every_school(rt: Runtime) -> None:
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 5))
    assert milestones(rt, 2026, 11, 14) == {}
    assert milestones(rt, 2026, 11, 15, 20) == {"voorlopige foto": 1}  # 01OE
    assert milestones(rt, 2026, 11, 16) == {}
    rt.registry.declare_complete("02AB", SJ, utc(2026, 11, 20))
    assert milestones(rt, 2026, 11, 29, 20) == {"voorlopige foto": 1}  # 02AB
    assert stage(rt, "02AB") is Stage.PROVISIONAL_SNAPSHOT
    assert milestones(rt, 2027, 5, 31, 20) == {}
    assert milestones(rt, 2027, 6, 1, 20) == {"mutation stop": 2}
    assert stage(rt) is stage(rt, "02AB") is Stage.CURRENT_SNAPSHOT
    assert rt.fotos.stored("02AB", SJ, FotoKind.ACTUEEL).signalen is not None
    assert milestones(rt, 2027, 6, 2) == {}
    rt.registry.report_assurance("01OE", SJ, [], [], utc(2027, 6, 20))
    assert milestones(rt, 2027, 7, 20) == {}
    assert milestones(rt, 2027, 7, 21, 20) == {"definitieve foto": 1}
    assert milestones(rt, 2027, 8, 3) == {}  # and in the next school year
    assert (
        stage(rt) is Stage.FINAL_SNAPSHOT
        and stage(rt, "02AB") is not Stage.FINAL_SNAPSHOT
    )


def test_no_voorlopige_foto_before_the_count_date(rt: Runtime) -> None:
    rt.registry.declare_complete("01OE", SJ, utc(2026, 9, 25))
    with pytest.raises(IllegalTransition, match="not before"):
        rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 9, 30))
    rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 10, 1, 12))


def test_a_late_declaration_after_the_last_provisional_date_waits_for_the_stop(
    rt: Runtime,
) -> None:
    rt.registry.declare_complete("01OE", SJ, utc(2027, 1, 10))
    assert milestones(rt, 2027, 2, 1) == {}
    assert milestones(rt, 2027, 6, 1, 20) == {"mutation stop": 2}


def test_schools_at_a_time_give_what_one_at_a_time_gives(rt: Runtime) -> None:
    """`milestones run --workers 2`: each school's stop and foto, the report in
    the schools' order, every foto checking against the log."""
    report = run_milestones(rt.registry, rt.fotos, utc(2027, 6, 1, 20), workers=2)
    assert report.refused == [] and dict(report.done) == {"mutation stop": 2}
    assert [brin for brin, _ in report.issued] == rt.registry.brins()
    totals = {brin: f.document["controletotaal"] for brin, f in report.issued}
    assert totals == {"01OE": 2, "02AB": 1}
    for brin, _ in report.issued:
        assert stage(rt, brin) is Stage.CURRENT_SNAPSHOT
        assert rt.fotos.verify(rt.fotos.stored(brin, SJ, FotoKind.ACTUEEL))
    assert milestones(rt, 2027, 6, 2) == {}  # done once, as one at a time


def test_a_school_refused_in_one_thread_leaves_the_others_to_go_on(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers, a refusal is reported for its school alone; the other
    school's stop is done, and a later run does the refused one."""
    stop = rt.fotos.stop

    def refuse_01oe(brin: str, *args: Any, **kwargs: Any) -> IssuedFoto:
        if brin == "01OE":
            raise IllegalTransition("the school year changed meanwhile")
        return stop(brin, *args, **kwargs)

    monkeypatch.setattr(rt.fotos, "stop", refuse_01oe)
    before = stage(rt, "01OE")
    report = run_milestones(rt.registry, rt.fotos, utc(2027, 6, 1, 20), workers=2)
    assert report.refused == [
        f"01OE {SJ} mutation stop: the school year changed meanwhile"
    ]
    assert dict(report.done) == {"mutation stop": 1}
    assert [brin for brin, _ in report.issued] == ["02AB"]
    assert (stage(rt, "01OE"), stage(rt, "02AB")) == (before, Stage.CURRENT_SNAPSHOT)
    monkeypatch.undo()
    assert milestones(rt, 2027, 6, 2) == {"mutation stop": 1}
    assert stage(rt, "01OE") is Stage.CURRENT_SNAPSHOT
