"""China's working days: weekends and official holidays off, the make-up working days (调休) on, as
the State Council announces them each year, from the chinesecalendar package. For a year it does not
know yet (announced each November), weekends alone are taken."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def after_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (the day itself not counted)."""
    while count > 0:
        day += timedelta(days=1)
        count -= is_working_day(day)
    return day


def end_of_working_days(start: datetime, count: int, zone: str) -> datetime:
    """The end (local midnight) of the `count`-th working day after the local day of `start`, in UTC."""
    local = ZoneInfo(zone)
    last = after_working_days(start.astimezone(local).date(), count)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=local).astimezone(ZoneInfo("UTC"))


def before_working_days(day: date, count: int) -> date:
    """The `count`-th working day before `day` (the day itself not counted)."""
    while count > 0:
        day -= timedelta(days=1)
        count -= is_working_day(day)
    return day


def end_of_working_days_before(day: date, count: int, zone: str) -> datetime:
    """The end (local midnight) of the `count`-th working day before the local day `day`, in UTC."""
    last = before_working_days(day, count)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
