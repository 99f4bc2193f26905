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

from triggers.assess import columns_under, enabled_rows, per_region, signed, to_assessments
from triggers.grid import DailyGrid, daily_grid, day_words
from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES
from triggers.model import Assessment, Evidence
from triggers.rules import Rules
from triggers.units import beaufort_level, tenths
from triggers.weather import days_seen, drops_over, shortened_note

HAZARD = "cold_wave"


def level_matrix(daily: DailyGrid, thresholds: pd.DataFrame):
    """Level index (0 none, 1 blue … 4 red) per region x day, with the drops that decided it."""
    t = daily.values["tmin"]
    drops = {24: drops_over(t, 1), 48: drops_over(t, 2)}
    levels = beaufort_level(daily.values["wind_max_ms"])
    wind_level = np.fmax(shifted(levels, 1), levels)
    thr = thresholds.reindex(daily.codes)
    result = np.zeros(t.shape, dtype=int)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        key = f"{HAZARD}.{name}."
        drop = np.where(per_region(thr, key + "window_h") == 24, drops[24], drops[48])
        with np.errstate(invalid="ignore"):
            meets = ((drop >= per_region(thr, key + "drop_c")) & (tenths(t) <= per_region(thr, key + "tmin_max_c"))
                     & (wind_level >= per_region(thr, key + "wind_level_min")))
        result = np.maximum(result, np.where(meets, index, 0))
    return result, drops, wind_level


def shifted(matrix: np.ndarray, by: int) -> np.ndarray:
    out = np.full(matrix.shape, np.nan)
    out[:, by:] = matrix[:, :-by]
    return out


def assess_cold_wave(daily: DailyGrid | pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series,
                     rules: Rules, now: datetime) -> list[Assessment]:
    """Assessments for every region where a level holds within the prepare horizon.

    `thresholds` is `rules.thresholds(regions)`; `tz_by_code` maps region code to time zone.
    """
    daily = daily_grid(daily)
    if daily.empty:
        return []
    levels, drops, wind_level = level_matrix(daily, thresholds)
    levels[~enabled_rows(thresholds, HAZARD, daily.codes)] = 0
    days = day_words(daily.days)
    limits = columns_under(thresholds.reindex(daily.codes), f"{HAZARD}.")
    t, wind_ms = daily.values["tmin"], daily.values["wind_max_ms"]
    seen = days_seen(t, 2)

    def evidence_at(row: int, day: int, level: str) -> Evidence:
        window = int(limits[f"{HAZARD}.{level}.window_h"][row])
        return cold_wave_evidence(
            level, day=days[day], tmin=t[row, day], drop=drops[window][row, day], window=window,
            seen_days=min(int(seen[row, day]), window // 24),
            wind_level=wind_level[row, day], wind_ms=wind_ms[row, day],
            criterion={k: limits[f"{HAZARD}.{level}.{k}"][row] for k in ("drop_c", "tmin_max_c", "wind_level_min")})

    return to_assessments(HAZARD, levels, daily.starts_ns(tz_by_code), timedelta(days=1), daily.codes, rules, now,
                          evidence_at)


def cold_wave_evidence(level, day, tmin, drop, window, seen_days, wind_level, wind_ms, criterion) -> Evidence:
    names = LEVEL_NAMES[level]
    wind_level = int(wind_level)
    note_zh, note_en = shortened_note(window, seen_days)
    zh = (f"{day['month']}月{day['day']}日最低气温 {signed(tmin)} °C,{window} 小时内下降 {drop:.1f} °C{note_zh},"
          f"平均风力 {wind_level} 级 → {names['zh']}")
    en = (f"min {signed(tmin)} °C on {day['day']} {day['abbr']}, down {drop:.1f} °C in {window} h{note_en}, "
          f"mean wind level {wind_level} → {names['en']}")
    values = {"day": day["iso"], "tmin_c": round(float(tmin), 1), "drop_c": float(drop),
              "window_h": window, "wind_level": wind_level, "wind_ms": round(float(wind_ms), 1),
              "criterion": {k: float(v) for k, v in criterion.items()}}
    if note_en:
        values["data_hours"] = seen_days * 24
    return Evidence(zh=zh, en=en, values=values)
