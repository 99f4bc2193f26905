"""From the hourly forecast table to daily values over each region's local calendar day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from triggers.assess import DEFAULT_ZONE
from triggers.units import tenths

# The longest look-back of any daily rule: GB/T 21987's 72 h drop of a day reaches three days back.
LONGEST_LOOKBACK_DAYS = 3

# A day counts only when its samples cover at least this share of it: a daily minimum taken over
# the few hours at the edge of a forecast would invent drops that are not there.
MIN_DAY_COVERAGE = 0.75


def local_days(valid_time: pd.Series, tz: pd.Series) -> pd.Series:
    """Local calendar day (naive midnight) of each UTC time, one zone conversion per distinct zone."""
    days = pd.Series(pd.NaT, index=valid_time.index, dtype="datetime64[us]")
    for zone, rows in tz.groupby(tz).groups.items():
        local = valid_time.loc[rows].dt.tz_convert(zone).dt.tz_localize(None)
        days.loc[rows] = local.dt.normalize().astype("datetime64[us]")
    return days


def daily_weather(hourly: pd.DataFrame, region_tz: pd.Series) -> pd.DataFrame:
    """Columns: region_code, day, tmin, tmax, wind_max_ms; complete local days only."""
    if hourly.empty:
        return pd.DataFrame(columns=["region_code", "day", "tmin", "tmax", "wind_max_ms"])
    tz = hourly["region_code"].map(region_tz).fillna(DEFAULT_ZONE)
    frame = hourly.assign(day=local_days(hourly["valid_time"], tz))
    daily = frame.groupby(["region_code", "day"], sort=True).agg(
        tmin=("temp", "min"), tmax=("temp", "max"), wind_max_ms=("wind_speed", "max"),
        samples=("temp", "count"))
    step_h = sample_step_hours(hourly)
    complete = daily["samples"] >= MIN_DAY_COVERAGE * 24 / step_h
    return daily[complete].drop(columns="samples").reset_index()


def sample_step_hours(hourly: pd.DataFrame) -> float:
    steps = hourly.sort_values(["region_code", "valid_time"]).groupby("region_code")["valid_time"].diff()
    step = steps.dropna().median()
    return step.total_seconds() / 3600 if pd.notna(step) and step.total_seconds() > 0 else 1.0


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
