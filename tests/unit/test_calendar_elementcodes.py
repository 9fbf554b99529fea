from __future__ import annotations

from datetime import date

import pytest

from registry.domain import elementcodes, errors
from registry.domain.calendar import SchoolYearCalendar


def test_calendar_of_a_school_year() -> None:
    cal = SchoolYearCalendar.of("2026-2027")
    assert cal.first_day == date(2026, 8, 1)
    assert cal.last_day == date(2027, 7, 31)
    assert cal.count_date == date(2026, 10, 1)
    assert cal.completeness_deadline == date(2026, 10, 15)
    assert cal.default_mutation_stop == date(2027, 6, 1)
    assert cal.final_snapshot == date(2027, 7, 21)
    assert cal.provisional_snapshot_dates[0] == date(2026, 11, 15)
    assert cal.contains(date(2027, 7, 31)) and not cal.contains(date(2027, 8, 1))


def test_the_real_table_is_shipped_whole() -> None:
    table = elementcodes.table()
    assert len(table) == 489
    assert table["0300"].leerjaren == {1, 2, 3}
    assert table["0090"].leerjaren == {1, 2, 3, 4, 5, 6}
    assert table["3341"].leerjaren == {3}
    assert table["4211"].leerjaren == {5, 6}


def test_leerjaar_not_allowed_is_x122_and_names_the_allowed_years() -> None:
    with pytest.raises(errors.LeerjaarNotAllowed) as info:
        elementcodes.lookup("0300").check_leerjaar(4)
    assert info.value.code == "X122"
    assert "0300" in info.value.message and "1, 2, 3" in info.value.message


def test_unknown_elementcode_is_x123() -> None:
    with pytest.raises(errors.UnknownElementcode) as info:
        elementcodes.lookup("9999")
    assert info.value.code == "X123"


def test_a_count_date_on_a_weekend_moves_to_the_next_school_day() -> None:
    """domain.md §4.1: a non-school 1 October means counting on the next school
    day (1 October 2028 is a Sunday, 2033 a Saturday)."""
    assert SchoolYearCalendar.of("2026-2027").count_date == date(2026, 10, 1)
    assert SchoolYearCalendar.of("2027-2028").count_date == date(2027, 10, 1)
    assert SchoolYearCalendar.of("2028-2029").count_date == date(2028, 10, 2)
    assert SchoolYearCalendar.of("2033-2034").count_date == date(2033, 10, 3)
