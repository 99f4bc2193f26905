"""Working days by China's official calendar, and the price subsidy's due date counted in them."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from triggers.playbook import parse_playbook, plan_tasks
from triggers.validation import InvalidConfig
from triggers.workdays import after_working_days, is_working_day
from tests.unit.helpers import at
from tests.unit.test_playbook import CASELOAD, shipped
from warning.settings import SHIPPED_CONFIG_DIR

SUBSIDY = {"amount_yuan": 100.0, "month": "2025-12", "per_person_urban": 50.0, "per_person_rural": 35.0,
           "recipients": 2}


@pytest.mark.parametrize("day, working", [
    (date(2026, 2, 14), True),    # a Saturday made a working day for the Spring Festival (调休)
    (date(2026, 2, 16), False),   # the eve of 春节 2026 (17 Feb), a Monday off
    (date(2026, 2, 24), True),    # back at work
    (date(2026, 1, 1), False),    # 元旦
    (date(2026, 1, 5), True),     # an ordinary Monday
])
def test_official_holidays_and_make_up_days(day, working):
    assert is_working_day(day) is working


def test_twenty_working_days_across_the_spring_festival():
    # Released Fri 30 Jan 2026. Worked by hand from the State Council's 2026 calendar: 2-6 Feb (5),
    # 9-13 Feb (10), Sat 14 Feb made up (11), 15-23 Feb off, 24-27 Feb (15), Sat 28 Feb made up (16),
    # 2-5 Mar (20). Weekends alone would have said 27 Feb.
    assert after_working_days(date(2026, 1, 30), 20) == date(2026, 3, 5)


def test_a_year_not_yet_announced_counts_weekends_alone():
    assert after_working_days(date(2031, 1, 3), 5) == date(2031, 1, 10)  # Fri 3 Jan 2031 -> next Fri


def test_the_price_subsidy_falls_due_at_the_end_of_the_twentieth_working_day():
    released = at("2026-01-30T02:00:00")  # 10:00 on 30 Jan in Beijing
    [task] = plan_tasks(shipped(), hazard="price_linkage", level="start", stage="act", onset=released,
                        now=released, caseload=CASELOAD, shelters=[], subsidy=SUBSIDY)
    assert task.due_at == at("2026-03-05T16:00:00")  # midnight at the end of 5 Mar, Beijing time
    # 00:30 on 30 Jan in Beijing is still 29 Jan in UTC: the days are Beijing's, so the same due time
    [late] = plan_tasks(shipped(), hazard="price_linkage", level="start", stage="act",
                        onset=at("2026-01-29T16:30:00"), now=at("2026-01-29T16:30:00"), caseload=CASELOAD,
                        shelters=[], subsidy=SUBSIDY)
    assert late.due_at == at("2026-03-05T16:00:00")


def test_a_due_time_is_counted_one_way_only():
    data = yaml.safe_load((SHIPPED_CONFIG_DIR / "playbooks.yaml").read_text(encoding="utf-8"))
    data["tasks"][0]["due"] = {"relative_to": "onset", "offset_h": -24, "working_days": 3}
    with pytest.raises(InvalidConfig) as caught:
        parse_playbook(data)
    assert any(p.startswith("playbooks.yaml: tasks.0.due: Value error, give either offset_h or working_days")
               for p in caught.value.problems), caught.value.problems
