"""CMA cold-wave warning signal (寒潮预警信号), assessed over whole tables at once.

Per region and local day d: the 24 h drop is tmin[d-1] - tmin[d]; the 48 h drop is
max(tmin[d-1], tmin[d-2]) - tmin[d]; the wind is the strongest hourly mean wind (as a Beaufort
level) on day d or the day before, when the cold air passes. A level holds on day d when its
drop, minimum and wind criteria all hold. Days already over only serve as the baseline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES
from triggers.model import Assessment, Evidence
from triggers.rules import Rules
from triggers.units import beaufort_level, tenths

HAZARD = "cold_wave"


def level_matrix(daily: pd.DataFrame, thresholds: pd.DataFrame):
    """Level index (0 none, 1 blue … 4 red) per region x day, with the drops that decided it."""
    tmin = daily.pivot(index="region_code", columns="day", values="tmin").sort_index(axis=1)
    wind = daily.pivot(index="region_code", columns="day", values="wind_max_ms").reindex_like(tmin)
    t = tmin.to_numpy(dtype=float)
    prev1, prev2 = shifted(t, 1), shifted(t, 2)
    drops = {24: tenths(prev1 - t), 48: tenths(np.fmax(prev1, prev2) - t)}
    levels = beaufort_level(wind.to_numpy(dtype=float))
    wind_level = np.fmax(shifted(levels, 1), levels)
    thr = thresholds.reindex(tmin.index)
    result = np.zeros(t.shape, dtype=int)
    for index, name in enumerate(COLOUR_LEVELS, start=1):
        window = thr[f"{name}_window_h"].to_numpy()[:, None]
        drop = np.where(window == 24, drops[24], drops[48])
        with np.errstate(invalid="ignore"):
            meets = ((drop >= thr[f"{name}_drop_c"].to_numpy()[:, None])
                     & (tenths(t) <= thr[f"{name}_tmin_max_c"].to_numpy()[:, None])
                     & (wind_level >= thr[f"{name}_wind_level_min"].to_numpy()[:, None]))
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
    days = pd.DatetimeIndex(tmin.columns)
    horizon = now + timedelta(hours=rules.stages.prepare_within_h)
    out = []
    for row in np.flatnonzero(levels.max(axis=1) > 0):
        code = tmin.index[row]
        zone = ZoneInfo(tz_by_code.get(code, "Asia/Shanghai"))
        starts = [day.to_pydatetime().replace(tzinfo=zone) for day in days]
        in_window = np.array([start + timedelta(days=1) > now and start <= horizon for start in starts])
        firing = np.flatnonzero((levels[row] > 0) & in_window)
        if firing.size == 0:
            continue
        peak = firing[np.argmax(levels[row, firing])]
        level = COLOUR_LEVELS[levels[row, peak] - 1]
        onset = starts[firing[0]]  # a stable day start, so the onset does not drift with `now`
        lead = max(0.0, (onset - now).total_seconds() / 3600)
        stage = rules.stages.stage_for(lead)
        threshold = thresholds.loc[code]
        window = int(threshold[f"{level}_window_h"])
        evidence = cold_wave_evidence(
            level, day=days[peak], tmin=tmin.iat[row, peak], drop=drops[window][row, peak],
            window=window, wind_level=wind_level[row, peak], wind_ms=wind.iat[row, peak],
            criterion={k: threshold[f"{level}_{k}"] for k in ("drop_c", "tmin_max_c", "wind_level_min")})
        out.append(Assessment(
            region_code=code, hazard=HAZARD, level=level, stage=stage,
            onset=onset.astimezone(ZoneInfo("UTC")),
            ends=(starts[firing[-1]] + timedelta(days=1)).astimezone(ZoneInfo("UTC")),
            lead_time_h=round(lead, 1), evidence=evidence, rule_version=rules.version))
    return out


def signed(value: float) -> str:
    return f"{value:.1f}".replace("-", "−")


def cold_wave_evidence(level, day, tmin, drop, window, wind_level, wind_ms, criterion) -> Evidence:
    names = LEVEL_NAMES[level]
    wind_level = int(wind_level)
    zh = (f"{day.month}月{day.day}日最低气温 {signed(tmin)} °C,{window} 小时内下降 {drop:.1f} °C,"
          f"平均风力 {wind_level} 级 → {names['zh']}")
    en = (f"min {signed(tmin)} °C on {day.day} {day:%b}, down {drop:.1f} °C in {window} h, "
          f"mean wind level {wind_level} → {names['en']}")
    values = {"day": day.date().isoformat(), "tmin_c": round(float(tmin), 1), "drop_c": float(drop),
              "window_h": window, "wind_level": wind_level, "wind_ms": round(float(wind_ms), 1),
              "criterion": {k: float(v) for k, v in criterion.items()}}
    return Evidence(zh=zh, en=en, values=values)
