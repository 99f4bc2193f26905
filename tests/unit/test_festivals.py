"""Festival days and the working days before them. 春节 dates as the State Council's notices give
them (2025: 29 Jan; 2026: 17 Feb; 2027: 6 Feb); the make-up working days (调休) as announced:
2025 — holiday 28 Jan to 4 Feb, Sunday 26 Jan worked; 2026 — holiday 15 to 23 Feb, Saturday 14 Feb
worked. 2027's calendar is not announced yet (each November): weekends alone are taken."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from triggers.festivals import festival_day, upcoming
from triggers.workdays import before_working_days, end_of_working_days_before


@pytest.mark.parametrize("year, day", [(2025, date(2025, 1, 29)), (2026, date(2026, 2, 17)), (2027, date(2027, 2, 6))])
def test_spring_festival_falls_on_the_first_day_of_the_lunar_year(year, day):
    assert festival_day("spring_festival", year) == day
    assert festival_day("new_year", year) == date(year, 1, 1)


@pytest.mark.parametrize("festival, count, paid_by", [
    (date(2025, 1, 29), 1, date(2025, 1, 27)),  # 28 Jan is already the holiday
    (date(2025, 1, 29), 2, date(2025, 1, 26)),  # the Sunday worked in lieu counts
    (date(2025, 1, 29), 5, date(2025, 1, 22)),
    (date(2026, 2, 17), 1, date(2026, 2, 14)),  # 15 and 16 Feb are holiday; Saturday 14 Feb is worked
    (date(2026, 2, 17), 5, date(2026, 2, 10)),
    (date(2027, 2, 6), 5, date(2027, 2, 1)),  # not announced: Monday to Friday
    (date(2026, 1, 1), 3, date(2025, 12, 29)),  # 元旦 2026 is Thursday
])
def test_benefits_are_due_by_the_nth_working_day_before_the_festival(festival, count, paid_by):
    assert before_working_days(festival, count) == paid_by
    due = end_of_working_days_before(festival, count, "Asia/Shanghai")
    assert due == datetime(paid_by.year, paid_by.month, paid_by.day, 16, tzinfo=timezone.utc)  # midnight in Beijing


def test_a_festival_comes_within_notice_from_its_day_back():
    both = ["new_year", "spring_festival"]
    assert upcoming(date(2026, 1, 27), both, 21) == [("spring_festival", date(2026, 2, 17))]
    assert upcoming(date(2026, 1, 26), both, 21) == []
    assert upcoming(date(2026, 12, 11), both, 21) == [("new_year", date(2027, 1, 1))]
    assert upcoming(date(2026, 2, 17), both, 21) == [("spring_festival", date(2026, 2, 17))]
    assert upcoming(date(2026, 2, 18), both, 21) == []
    assert upcoming(date(2026, 12, 20), ["spring_festival"], 47) == []  # 6 Feb 2027 is 48 days on
    assert upcoming(date(2026, 12, 20), ["spring_festival"], 48) == [("spring_festival", date(2027, 2, 6))]
