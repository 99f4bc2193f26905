"""Rules on hourly values within the next hours: frost (霜冻) and night cold for rough sleepers."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from triggers.assess import enabled_rows, per_region, signed, to_assessments, zones_of
from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES
from triggers.model import Assessment, Evidence
from triggers.rules import Rules

HOUR = timedelta(hours=1)


def hourly_matrix(hourly: pd.DataFrame, column: str) -> pd.DataFrame:
    return hourly.pivot(index="region_code", columns="valid_time", values=column).sort_index(axis=1)


def hours_ahead(times: pd.DatetimeIndex, now: datetime) -> np.ndarray:
    return (times.as_unit("ns").asi8 - pd.Timestamp(now).value) / 3.6e12


def local_field(times: pd.DatetimeIndex, codes: pd.Index, tz_by_code: pd.Series, field: str) -> np.ndarray:
    """Each region's local hour or month of each time (regions x times), one conversion per zone."""
    zones = zones_of(codes, tz_by_code)
    out = np.empty((len(codes), len(times)), dtype=int)
    for zone in set(zones):
        out[zones == zone] = getattr(times.tz_convert(zone), field).to_numpy()
    return out


def by_distinct(values: np.ndarray, matrix: np.ndarray, test) -> np.ndarray:
    """test(matrix rows, value) for each distinct per-region value (e.g. a months tuple): few calls."""
    out = np.zeros(matrix.shape, dtype=bool)
    for value in set(values):
        rows = values == value if not isinstance(value, tuple) else np.array([v == value for v in values])
        out[rows] = test(matrix[rows], value)
    return out


def starts_of(times: pd.DatetimeIndex, rows: int) -> np.ndarray:
    return np.broadcast_to(times.as_unit("ns").asi8, (rows, len(times)))


def at_and_lowest(times: pd.DatetimeIndex, zone: str, values: np.ndarray, slot: int, low: int):
    """The local time of the deciding hour, and (zh, en) words for the period's lowest hour if another."""
    when = times[slot].tz_convert(zone)
    if low == slot or values[low] >= values[slot]:
        return when, "", ""
    lowest = times[low].tz_convert(zone)
    return (when, f";期间最低 {signed(values[low])} °C({lowest:%m月%d日%H时})",
            f"; lowest {signed(values[low])} °C at {lowest:%d %b %H:%M}")


def assess_frost(hourly: pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                 now: datetime) -> list[Assessment]:
    """Blue when the ground minimum reaches 0 degC within 48 h, yellow -3 within 24 h, orange -5 within 24 h
    (shipped values), only in the configured months (local month of each hour)."""
    hazard = "frost"
    if hourly.empty:
        return []
    on_ground = bool("ground_temp" in hourly and hourly["ground_temp"].notna().any())
    values = hourly_matrix(hourly, "ground_temp" if on_ground else "temp")
    times = pd.DatetimeIndex(values.columns)
    v, ahead = values.to_numpy(dtype=float), hours_ahead(times, now)[None, :]
    thr = thresholds.reindex(values.index)
    local_month = local_field(times, values.index, tz_by_code, "month")
    in_season = by_distinct(thr[f"{hazard}.months"].to_numpy(), local_month, lambda m, allowed: np.isin(m, allowed))
    levels = np.zeros(v.shape, dtype=int)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        key = f"{hazard}.levels.{name}."
        if key + "ground_min_c" not in thr:
            continue
        with np.errstate(invalid="ignore"):
            meets = (np.round(v, 1) <= per_region(thr, key + "ground_min_c")) & (ahead <= per_region(thr, key + "within_h"))
        levels = np.where(meets & in_season & (index > levels), index, levels)
    levels[~enabled_rows(thresholds, hazard, values.index)] = 0
    zones = zones_of(values.index, tz_by_code)
    what_zh, what_en = ("地面最低温度", "ground minimum") if on_ground else ("最低气温(无地温资料)", "air minimum (no ground data)")

    def evidence_at(row: int, hour: int, level: str, low: int) -> Evidence:
        when, lowest_zh, lowest_en = at_and_lowest(times, zones[row], v[row], hour, low)
        return Evidence(zh=f"{when:%m月%d日%H时}{what_zh} {signed(v[row, hour])} °C → 霜冻{LEVEL_NAMES[level]['zh']}"
                           f"{lowest_zh}",
                        en=f"{what_en} {signed(v[row, hour])} °C at {when:%d %b %H:%M} → frost {level}{lowest_en}",
                        values={"at": times[hour].isoformat(), "value_c": float(v[row, hour]), "on_ground": on_ground,
                                "lowest_at": times[low].isoformat(), "lowest_c": float(v[row, low])})

    return to_assessments(hazard, levels, starts_of(times, len(values)), HOUR, values.index, rules, now, evidence_at,
                          lowest=v)


def assess_shelter(hourly: pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                   now: datetime) -> list[Assessment]:
    """Night hours (local) within the next hours whose apparent temperature reaches a level."""
    hazard = "shelter"
    if hourly.empty or hourly["apparent_temp"].isna().all():
        return []
    values = hourly_matrix(hourly, "apparent_temp")
    times = pd.DatetimeIndex(values.columns)
    v, ahead = values.to_numpy(dtype=float), hours_ahead(times, now)[None, :]
    thr = thresholds.reindex(values.index)
    hour = local_field(times, values.index, tz_by_code, "hour")
    start, end = per_region(thr, f"{hazard}.night_start_hour"), per_region(thr, f"{hazard}.night_end_hour")
    night = np.where(start > end, (hour >= start) | (hour < end), (hour >= start) & (hour < end))
    soon = ahead <= per_region(thr, f"{hazard}.within_h")
    levels = np.zeros(v.shape, dtype=int)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        key = f"{hazard}.levels.{name}.apparent_max_c"
        if key not in thr:
            continue
        with np.errstate(invalid="ignore"):
            meets = (np.round(v, 1) <= per_region(thr, key)) & night & soon
        levels = np.where(meets & (index > levels), index, levels)
    levels[~enabled_rows(thresholds, hazard, values.index)] = 0
    zones = zones_of(values.index, tz_by_code)

    def evidence_at(row: int, slot: int, level: str, low: int) -> Evidence:
        when, lowest_zh, lowest_en = at_and_lowest(times, zones[row], v[row], slot, low)
        return Evidence(zh=f"{when:%m月%d日%H时}夜间体感温度 {signed(v[row, slot])} °C → 庇寒{LEVEL_NAMES[level]['zh']}"
                           f"{lowest_zh}",
                        en=f"apparent temperature {signed(v[row, slot])} °C at night, {when:%d %b %H:%M} → shelter "
                           f"{level}{lowest_en}",
                        values={"at": times[slot].isoformat(), "apparent_c": float(v[row, slot]),
                                "lowest_at": times[low].isoformat(), "lowest_c": float(v[row, low])})

    return to_assessments(hazard, levels, starts_of(times, len(values)), HOUR, values.index, rules, now, evidence_at,
                          lowest=v)
