"""Every hazard rule over the cycle's tables, in one call."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from triggers.coldwave import assess_cold_wave
from triggers.daily_rules import assess_grades, assess_persistent_cold
from triggers.ensemble import EnsembleDaily, assess_ensemble, decided
from triggers.grid import DailyGrid, HourlyGrid
from triggers.hourly_rules import assess_frost, assess_shelter
from triggers.model import Assessment
from triggers.official import assess_official
from triggers.rules import Rules


def assess_weather(daily: DailyGrid | pd.DataFrame, hourly: HourlyGrid | pd.DataFrame, warnings: pd.DataFrame, thresholds: pd.DataFrame,
                   tz_by_code: pd.Series, rules: Rules, now: datetime,
                   normals: pd.Series | None = None, ensemble: EnsembleDaily | None = None) -> list[Assessment]:
    """`daily`: local-day minima and wind; `hourly`: the forecast frame (may be empty for daily-only
    providers); `warnings`: official warnings in force; `normals`: normal daily minima, if known;
    `ensemble`: each member's local days, for the daily rules that use their shares."""
    daily_rules = (assess_cold_wave(daily, thresholds, tz_by_code, rules, now)
                   + assess_grades(daily, thresholds, tz_by_code, rules, now)
                   + assess_persistent_cold(daily, thresholds, tz_by_code, rules, now, normals))
    if ensemble is not None:
        daily_rules = decided(daily_rules, ensemble, assess_ensemble(ensemble, thresholds, tz_by_code, rules, now, normals),
                              thresholds)
    return (daily_rules
            + assess_frost(hourly, thresholds, tz_by_code, rules, now)
            + assess_shelter(hourly, thresholds, tz_by_code, rules, now)
            + assess_official(warnings, thresholds, rules, now))
