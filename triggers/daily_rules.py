"""Rules on daily minima: GB/T 21987 cold-wave grades and persistent low temperature (持续低温)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from triggers.assess import columns_under, enabled_rows, per_region, signed, to_assessments
from triggers.grid import DailyGrid, daily_grid, day_words
from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES, rank
from triggers.model import Assessment, Evidence
from triggers.rules import Rules
from triggers.units import tenths
from triggers.weather import days_seen, drops_over, shortened_note


GRADES = "cold_wave_grade"
PERSISTENT = "persistent_cold"


def grade_levels(daily: DailyGrid, thresholds: pd.DataFrame, rules: Rules):
    """Level index per region x day (0 none), the grade that decided it, and the 24/48/72 h drops."""
    t = daily.values["tmin"]
    drops = {h: drops_over(t, h // 24) for h in (24, 48, 72)}
    thr = thresholds.reindex(daily.codes)
    levels = np.zeros(t.shape, dtype=int)
    grade_at = np.full(t.shape, -1)
    for index in range(len(rules.ruleset.cold_wave_grade.grades)):
        key = f"{GRADES}.grades.{index}."
        if key + "level" not in thr:
            continue
        with np.errstate(invalid="ignore"):
            meets = ((drops[24] >= per_region(thr, key + "drop_24h_c")) | (drops[48] >= per_region(thr, key + "drop_48h_c"))
                     | (drops[72] >= per_region(thr, key + "drop_72h_c"))) & (tenths(t) <= per_region(thr, key + "tmin_max_c"))
        level = np.array([rank(v) for v in thr[key + "level"]])[:, None]
        better = meets & (level > levels)
        levels, grade_at = np.where(better, level, levels), np.where(better, index, grade_at)
    return levels, grade_at, drops


def assess_grades(daily: DailyGrid | pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                  now: datetime) -> list[Assessment]:
    hazard = GRADES
    daily = daily_grid(daily)
    if daily.empty:
        return []
    t = daily.values["tmin"]
    thr = thresholds.reindex(daily.codes)
    levels, grade_at, drops = grade_levels(daily, thresholds, rules)
    levels[~enabled_rows(thresholds, hazard, daily.codes)] = 0
    days = day_words(daily.days)
    names = columns_under(thr, f"{hazard}.grades.")

    seen = days_seen(t, 3)

    def evidence_at(row: int, day: int, level: str) -> Evidence:
        name = names[f"{hazard}.grades.{grade_at[row, day]}.name"][row]
        english = names.get(f"{hazard}.grades.{grade_at[row, day]}.name_en")
        name_en = (english[row] if english is not None else "") or name
        d24, d48, d72 = (drops[h][row, day] for h in (24, 48, 72))
        note_zh, note_en = shortened_note(72, int(seen[row, day]))
        values = {"day": days[day]["iso"], "tmin_c": float(t[row, day]), "grade": name,
                  "drop_24h_c": float(d24), "drop_48h_c": float(d48), "drop_72h_c": float(d72)}
        if note_en:
            values["data_hours"] = int(seen[row, day]) * 24
        return Evidence(
            zh=f"{days[day]['month']}月{days[day]['day']}日最低气温 {signed(t[row, day])} °C,24/48/72 小时降温 "
               f"{d24:.1f}/{d48:.1f}/{d72:.1f} °C{note_zh} → {name}({LEVEL_NAMES[level]['zh']})",
            en=f"min {signed(t[row, day])} °C on {days[day]['day']} {days[day]['abbr']}, drop in 24/48/72 h "
               f"{d24:.1f}/{d48:.1f}/{d72:.1f} °C{note_en} → {name_en} ({level})",
            values=values)

    return to_assessments(hazard, levels, daily.starts_ns(tz_by_code), timedelta(days=1), daily.codes, rules, now,
                          evidence_at)


def assess_persistent_cold(daily: DailyGrid | pd.DataFrame, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                           now: datetime, normals: pd.Series | None = None) -> list[Assessment]:
    """N days running below the threshold, or their mean that far below the normal minimum.

    `normals`: the region's normal daily minimum for the season (degC), where known.
    """
    hazard = PERSISTENT
    daily = daily_grid(daily)
    if daily.empty:
        return []
    t = daily.values["tmin"]
    run = thresholds[f"{hazard}.days"].reindex(daily.codes).fillna(3).to_numpy(dtype=int)
    normal = normals_of(daily, normals)
    levels = persistent_levels(daily, thresholds, normals)
    levels[~enabled_rows(thresholds, hazard, daily.codes)] = 0
    words = day_words(daily.days)

    def evidence_at(row: int, day: int, level: str) -> Evidence:
        n = int(run[row])
        stretch = t[row, day:day + n]  # `day` is the first day of a qualifying run
        first = words[day]
        return Evidence(
            zh=f"{first['month']}月{first['day']}日起连续 {n} 天最低气温不高于 {signed(stretch.max())} °C"
               f"(平均 {signed(stretch.mean())} °C)→ 持续低温{LEVEL_NAMES[level]['zh']}",
            en=f"{n} days from {first['day']} {first['abbr']} with minima at most {signed(stretch.max())} °C "
               f"(mean {signed(stretch.mean())} °C) → persistent cold {level}",
            values={"first_day": first["iso"], "days": n, "highest_min_c": float(stretch.max()),
                    "mean_min_c": round(float(stretch.mean()), 1),
                    "normal_min_c": None if np.isnan(normal[row]) else float(normal[row])})

    return to_assessments(hazard, levels, daily.starts_ns(tz_by_code), timedelta(days=1), daily.codes, rules, now,
                          evidence_at)


def normals_of(daily: DailyGrid, normals: pd.Series | None) -> np.ndarray:
    return (normals.reindex(daily.codes) if normals is not None else pd.Series(np.nan, index=daily.codes)).to_numpy()


def persistent_levels(daily: DailyGrid, thresholds: pd.DataFrame, normals: pd.Series | None) -> np.ndarray:
    """Level index per region x day (0 none): every day of a run that meets the rule carries its level."""
    t = daily.values["tmin"]
    thr = thresholds.reindex(daily.codes)
    run = thr[f"{PERSISTENT}.days"].fillna(3).to_numpy(dtype=int)
    normal = normals_of(daily, normals)
    levels = np.zeros(t.shape, dtype=int)
    for days in set(run):
        rows = run == days
        window = np.lib.stride_tricks.sliding_window_view(t[rows], days, axis=1)  # rows x (D-days+1) x days
        highest, mean = np.full(t[rows].shape, np.nan), np.full(t[rows].shape, np.nan)
        highest[:, days - 1:], mean[:, days - 1:] = window.max(axis=2), window.mean(axis=2)
        for index, name in enumerate(COLOUR_LEVELS, start=1):
            below, anomaly = f"{PERSISTENT}.levels.{name}.tmin_below_c", f"{PERSISTENT}.levels.{name}.anomaly_c"
            if below not in thr:
                continue
            sub = thr[rows]
            with np.errstate(invalid="ignore"):
                meets = highest < per_region(sub, below)
                if anomaly in thr:
                    meets |= (mean - normal[rows][:, None]) <= per_region(sub, anomaly)
            levels[rows] = np.where(meets & (index > levels[rows]), index, levels[rows])
        # A run that meets the rule on its last day is cold from its first: mark every day of it.
        padded = np.pad(levels[rows], ((0, 0), (0, days - 1)))
        levels[rows] = np.lib.stride_tricks.sliding_window_view(padded, days, axis=1).max(axis=2)
    return levels
