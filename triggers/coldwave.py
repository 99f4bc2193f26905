"""CMA cold-wave warning signal (寒潮预警信号), assessed over whole tables at once.

Per region and local day d: the 24 h drop is tmin[d-1] - tmin[d]; the 48 h drop is
max(tmin[d-1], tmin[d-2]) - tmin[d]; the wind is the strongest hourly mean wind (as a Beaufort
level) on day d or the day before, when the cold air passes. A level holds on day d when its
drop, minimum and wind criteria all hold. Days already over only serve as the baseline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from triggers.assess import columns_under, enabled_rows, local_day_starts, per_region, signed, to_assessments
from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES
from triggers.model import Assessment, Evidence
from triggers.rules import Rules
from triggers.units import beaufort_level, tenths
from triggers.weather import days_seen, drops_over, shortened_note

HAZARD = "cold_wave"


def level_matrix(daily: pd.DataFrame, thresholds: pd.DataFrame):
    """Level index (0 none, 1 blue … 4 red) per region x day, with the drops that decided it."""
    tmin = daily.pivot(index="region_code", columns="day", values="tmin").sort_index(axis=1)
    wind = daily.pivot(index="region_code", columns="day", values="wind_max_ms").reindex_like(tmin)
    t = tmin.to_numpy(dtype=float)
    drops = {24: drops_over(t, 1), 48: drops_over(t, 2)}
    levels = beaufort_level(wind.to_numpy(dtype=float))
    wind_level = np.fmax(shifted(levels, 1), levels)
    thr = thresholds.reindex(tmin.index)
    result = np.zeros(t.shape, dtype=int)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        key = f"{HAZARD}.{name}."
        drop = np.where(per_region(thr, key + "window_h") == 24, drops[24], drops[48])
        with np.errstate(invalid="ignore"):
            meets = ((drop >= per_region(thr, key + "drop_c")) & (tenths(t) <= per_region(thr, key + "tmin_max_c"))
                     & (wind_level >= per_region(thr, key + "wind_level_min")))
        result = np.maximum(result, np.where(meets, index, 0))
    return tmin, result, drops, wind_level, wind


def shifted(matrix: np.ndarray, by: int) -> np.ndarray:
    out = np.full(matrix.shape, np.nan)
    out[:, by:] = matrix[:, :-by]
    return out


def assess_cold_wave(daily: pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series,
                     rules: Rules, now: datetime) -> list[Assessment]:
    """Assessments for every region where a level holds within the prepare horizon.

    `thresholds` is `rules.thresholds(regions)`; `tz_by_code` maps region code to time zone.
    """
    if daily.empty:
        return []
    tmin, levels, drops, wind_level, wind = level_matrix(daily, thresholds)
    levels[~enabled_rows(thresholds, HAZARD, tmin.index)] = 0
    days = pd.DatetimeIndex(tmin.columns)
    starts = local_day_starts(days, tmin.index, tz_by_code)
    limits = columns_under(thresholds.reindex(tmin.index), f"{HAZARD}.")
    t, wind_ms = tmin.to_numpy(dtype=float), wind.to_numpy(dtype=float)
    seen = days_seen(t, 2)

    def evidence_at(row: int, day: int, level: str) -> Evidence:
        window = int(limits[f"{HAZARD}.{level}.window_h"][row])
        return cold_wave_evidence(
            level, day=days[day], tmin=t[row, day], drop=drops[window][row, day], window=window,
            seen_days=min(int(seen[row, day]), window // 24),
            wind_level=wind_level[row, day], wind_ms=wind_ms[row, day],
            criterion={k: limits[f"{HAZARD}.{level}.{k}"][row] for k in ("drop_c", "tmin_max_c", "wind_level_min")})

    return to_assessments(HAZARD, levels, starts, timedelta(days=1), tmin.index, rules, now, evidence_at)


def cold_wave_evidence(level, day, tmin, drop, window, seen_days, wind_level, wind_ms, criterion) -> Evidence:
    names = LEVEL_NAMES[level]
    wind_level = int(wind_level)
    note_zh, note_en = shortened_note(window, seen_days)
    zh = (f"{day.month}月{day.day}日最低气温 {signed(tmin)} °C,{window} 小时内下降 {drop:.1f} °C{note_zh},"
          f"平均风力 {wind_level} 级 → {names['zh']}")
    en = (f"min {signed(tmin)} °C on {day.day} {day:%b}, down {drop:.1f} °C in {window} h{note_en}, "
          f"mean wind level {wind_level} → {names['en']}")
    values = {"day": day.date().isoformat(), "tmin_c": round(float(tmin), 1), "drop_c": float(drop),
              "window_h": window, "wind_level": wind_level, "wind_ms": round(float(wind_ms), 1),
              "criterion": {k: float(v) for k, v in criterion.items()}}
    if note_en:
        values["data_hours"] = seen_days * 24
    return Evidence(zh=zh, en=en, values=values)
