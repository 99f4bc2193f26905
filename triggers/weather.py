"""Daily values over each region's local calendar day, and the drops the daily rules look at."""

from __future__ import annotations

import numpy as np
import pandas as pd

from triggers.grid import DailyGrid, HourlyGrid
from triggers.units import tenths

# The longest look-back of any daily rule: GB/T 21987's 72 h drop of a day reaches three days back.
LONGEST_LOOKBACK_DAYS = 3


def daily_weather(hourly: pd.DataFrame, region_tz: pd.Series) -> pd.DataFrame:
    """Columns: region_code, day, tmin, tmax, wind_max_ms; complete local days only."""
    return DailyGrid.of_hours(HourlyGrid.from_frame(hourly), region_tz).to_frame()


def drops_over(t: np.ndarray, days: int) -> np.ndarray:
    """Fall of the daily minimum from the warmest of the previous `days` days to today (regions x days)."""
    with np.errstate(invalid="ignore"):
        return tenths(np.fmax.reduce(previous_days(t, days), axis=0) - t)


def days_seen(t: np.ndarray, days: int) -> np.ndarray:
    """How many of the previous `days` days have a minimum: fewer means drops_over used a shorter window."""
    return (~np.isnan(previous_days(t, days))).sum(axis=0)


def previous_days(t: np.ndarray, days: int) -> np.ndarray:
    previous = np.full((days,) + t.shape, np.nan)
    for back in range(1, days + 1):
        previous[back - 1, :, back:] = t[:, :-back]
    return previous


def shortened_note(window_h: int, seen_days: int) -> tuple[str, str]:
    """Evidence text (zh, en) for a drop whose window lacked data, so that it is said, not hidden."""
    if seen_days * 24 >= window_h:
        return "", ""
    return (f"(缺少前期数据:{window_h} 小时降温仅按 {seen_days * 24} 小时计)",
            f" (data missing: the {window_h} h drop covers only {seen_days * 24} h)")
