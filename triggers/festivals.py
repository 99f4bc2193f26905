"""The festivals a civil-affairs year turns on: 元旦 (1 January) and 春节 (the first day of the lunar
year, from the lunardate package's tables). Benefits must reach households before them, and many
provinces pay a per-person holiday subsidy for them; both are tasks whatever the weather."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from lunardate import LunarDate

FESTIVAL_NAMES = {"new_year": {"zh": "元旦", "en": "New Year's Day"},
                  "spring_festival": {"zh": "春节", "en": "the Spring Festival"}}


@lru_cache(maxsize=64)  # asked for every region, every cycle
def festival_day(festival: str, year: int) -> date:
    """The festival's (first) day in `year`."""
    if festival == "new_year":
        return date(year, 1, 1)
    return LunarDate(year, 1, 1).to_solar_date()


def upcoming(local_day: date, festivals: list[str], notice_days: int) -> list[tuple[str, date]]:
    """The festivals from `local_day` up to `notice_days` ahead (the day itself included)."""
    found = []
    for festival in festivals:
        for year in (local_day.year, local_day.year + 1):
            day = festival_day(festival, year)
            if 0 <= (day - local_day).days <= notice_days:
                found.append((festival, day))
    return sorted(found, key=lambda pair: pair[1])


def start_of(day: date, zone: str) -> datetime:
    """The local midnight beginning `day`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))

