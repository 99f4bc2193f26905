"""Rules on hourly values within the next hours: frost (霜冻) and night cold for rough sleepers."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from triggers.assess import enabled_rows, per_region, signed, to_assessments
from triggers.grid import HourlyGrid, hour_words, hourly_grid, zones_of
from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES
from triggers.model import Assessment, Evidence
from triggers.rules import Rules
from triggers.units import tenths

HOUR = timedelta(hours=1)


def hours_ahead(times: pd.DatetimeIndex, now: datetime) -> np.ndarray:
    return (times.as_unit("ns").asi8 - pd.Timestamp(now).value) / 3.6e12


def by_distinct(values: np.ndarray, matrix: np.ndarray, test) -> np.ndarray:
    """test(matrix rows, value) for each distinct per-region value (e.g. a months tuple): few calls."""
    out = np.zeros(matrix.shape, dtype=bool)
    for value in set(values):
        rows = values == value if not isinstance(value, tuple) else np.array([v == value for v in values])
        out[rows] = test(matrix[rows], value)
    return out


def cell_levels(shape: tuple[int, int]) -> np.ndarray:
    """A level index (0 none … 4 red) per region and hour, in bytes (a national grid of townships is 13
    million cells)."""
    return np.zeros(shape, dtype=np.int8)


def starts_of(grid: HourlyGrid) -> np.ndarray:
    return np.broadcast_to(grid.starts_ns, (len(grid.codes), len(grid.times)))


class HourWords:
    """Evidence for the deciding hour of a region, and for its period's lowest hour if another; each
    zone's hours are written out once."""

    def __init__(self, grid: HourlyGrid, tz_by_code: pd.Series):
        self.zones = zones_of(grid.codes, tz_by_code)
        self.iso = [t.isoformat() for t in grid.times]
        self.by_zone = {zone: hour_words(grid.times, zone) for zone in set(self.zones)}

    def at_and_lowest(self, row: int, values: np.ndarray, slot: int, low: int) -> tuple[str, str, str, str]:
        """(zh, en) of the deciding hour, and (zh, en) words for the period's lowest hour if another."""
        zh, en = self.by_zone[self.zones[row]]
        if low == slot or values[low] >= values[slot]:
            return zh[slot], en[slot], "", ""
        return (zh[slot], en[slot], f";期间最低 {signed(values[low])} °C({zh[low]})",
                f"; lowest {signed(values[low])} °C at {en[low]}")


def assess_frost(hourly: HourlyGrid | pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                 now: datetime) -> list[Assessment]:
    """Blue when the ground minimum reaches 0 degC within 48 h, yellow -3 within 24 h, orange -5 within 24 h
    (shipped values), only in the configured months (local month of each hour)."""
    hazard = "frost"
    grid = hourly_grid(hourly)
    if grid.empty or "temp" not in grid.values and "ground_temp" not in grid.values:
        return []
    on_ground = "ground_temp" in grid.values
    v, ahead = grid.values["ground_temp" if on_ground else "temp"], hours_ahead(grid.times, now)[None, :]
    thr = thresholds.reindex(grid.codes)
    local_month = grid.local_field(tz_by_code, "month")
    in_season = by_distinct(thr[f"{hazard}.months"].to_numpy(), local_month, lambda m, allowed: np.isin(m, allowed))
    levels, in_tenths = cell_levels(v.shape), tenths(v)  # (rounded once, compared per level)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        key = f"{hazard}.levels.{name}."
        if key + "ground_min_c" not in thr:
            continue
        with np.errstate(invalid="ignore"):
            meets = (in_tenths <= per_region(thr, key + "ground_min_c")) & (ahead <= per_region(thr, key + "within_h"))
        levels[meets & in_season] = index  # (levels ascend: a later one is the higher)
    del in_tenths  # (a national grid's worth, let go before the assessments are built)
    levels[~enabled_rows(thresholds, hazard, grid.codes)] = 0
    words = HourWords(grid, tz_by_code)
    what_zh, what_en = ("地面最低温度", "ground minimum") if on_ground else ("最低气温(无地温资料)", "air minimum (no ground data)")

    def evidence_at(row: int, hour: int, level: str, low: int) -> Evidence:
        when_zh, when_en, lowest_zh, lowest_en = words.at_and_lowest(row, v[row], hour, low)
        return Evidence(zh=f"{when_zh}{what_zh} {signed(v[row, hour])} °C → 霜冻{LEVEL_NAMES[level]['zh']}{lowest_zh}",
                        en=f"{what_en} {signed(v[row, hour])} °C at {when_en} → frost {level}{lowest_en}",
                        values={"at": words.iso[hour], "value_c": float(v[row, hour]), "on_ground": on_ground,
                                "lowest_at": words.iso[low], "lowest_c": float(v[row, low])})

    return to_assessments(hazard, levels, starts_of(grid), HOUR, grid.codes, rules, now, evidence_at, lowest=v)


def assess_shelter(hourly: HourlyGrid | pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                   now: datetime) -> list[Assessment]:
    """Night hours (local) within the next hours whose apparent temperature reaches a level."""
    hazard = "shelter"
    grid = hourly_grid(hourly)
    if "apparent_temp" not in grid.values:
        return []
    v, ahead = grid.values["apparent_temp"], hours_ahead(grid.times, now)[None, :]
    thr = thresholds.reindex(grid.codes)
    hour = grid.local_field(tz_by_code, "hour")
    start, end = per_region(thr, f"{hazard}.night_start_hour"), per_region(thr, f"{hazard}.night_end_hour")
    night = np.where(start > end, (hour >= start) | (hour < end), (hour >= start) & (hour < end))
    soon = ahead <= per_region(thr, f"{hazard}.within_h")
    levels, in_tenths = cell_levels(v.shape), tenths(v)  # (rounded once, compared per level)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        key = f"{hazard}.levels.{name}.apparent_max_c"
        if key not in thr:
            continue
        with np.errstate(invalid="ignore"):
            meets = (in_tenths <= per_region(thr, key)) & night & soon
        levels[meets] = index
    del in_tenths
    levels[~enabled_rows(thresholds, hazard, grid.codes)] = 0
    words = HourWords(grid, tz_by_code)

    def evidence_at(row: int, slot: int, level: str, low: int) -> Evidence:
        when_zh, when_en, lowest_zh, lowest_en = words.at_and_lowest(row, v[row], slot, low)
        return Evidence(zh=f"{when_zh}夜间体感温度 {signed(v[row, slot])} °C → 庇寒{LEVEL_NAMES[level]['zh']}{lowest_zh}",
                        en=f"apparent temperature {signed(v[row, slot])} °C at night, {when_en} → shelter "
                           f"{level}{lowest_en}",
                        values={"at": words.iso[slot], "apparent_c": float(v[row, slot]),
                                "lowest_at": words.iso[low], "lowest_c": float(v[row, low])})

    return to_assessments(hazard, levels, starts_of(grid), HOUR, grid.codes, rules, now, evidence_at, lowest=v)
