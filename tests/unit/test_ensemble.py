"""Probabilistic triggers: the share of ensemble members meeting a level, at its boundaries.

Members are built here (not a provider's data): each is a list of (tmin, wind m/s) days, so the share
meeting each CMA cold-wave level is known exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from triggers.coldwave import assess_cold_wave
from triggers.ensemble import EnsembleDaily, assess_ensemble, decided
from tests.unit.helpers import REGIONS, at, daily, rules

NOW = at("2026-01-17T16:00:00")  # 00:00 on 18 Jan in Beijing: 17 Jan is the baseline
TZ = REGIONS.set_index("code")["timezone"]
ORANGE = [(12.0, 3.0), (0.0, 10.8)]   # drop 12 to 0 °C in a level-6 wind: orange
BLUE = [(12.0, 3.0), (4.0, 8.0)]      # drop 8 to 4 °C, level 5: blue
CALM = [(5.0, 3.0), (4.0, 3.0)]
ENSEMBLE = {"cold_wave": {"ensemble": {"use": "ensemble"}}}


def members(region: str, *groups: tuple[int, list], first_day: str = "2026-01-17", calm_days: int = 0) -> pd.DataFrame:
    """(count, days) groups of members; `calm_days` quiet days before each member's days."""
    frames, number = [], 0
    for count, days in groups:
        for _ in range(count):
            frames.append(daily(region, [(5.0, 3.0)] * calm_days + days, first_day).assign(member=number))
            number += 1
    return pd.concat(frames, ignore_index=True)


def assessed(frame: pd.DataFrame, **changes):
    ruleset = rules(**(changes or ENSEMBLE))
    return assess_ensemble(EnsembleDaily.from_frame(frame), ruleset.thresholds(REGIONS), TZ, ruleset, NOW)


def test_seventy_percent_within_two_days_is_act():
    [a] = assessed(members("220102", (7, ORANGE), (3, CALM)))
    assert (a.hazard, a.level, a.stage) == ("cold_wave", "orange", "act")
    assert a.evidence.zh == "10 个集合成员中 7 个(70 %)达到寒潮橙色标准,1月18日"
    assert a.evidence.en == "7 of 10 ensemble members (70 %) meet the cold wave orange criteria on 18 Jan"
    assert a.evidence.values | {} == {"day": "2026-01-18", "members": 10, "meeting": 7, "share_pct": 70.0,
                                      "source": "ensemble"}


def test_sixty_nine_percent_is_only_prepare():
    [a] = assessed(members("220102", (69, ORANGE), (31, CALM)))
    assert (a.level, a.stage) == ("orange", "prepare")
    assert "69 of 100" in a.evidence.en


def test_forty_percent_prepares_and_thirty_nine_does_not():
    [a] = assessed(members("220102", (4, BLUE), (6, CALM)))
    assert (a.level, a.stage) == ("blue", "prepare")
    assert assessed(members("220102", (39, BLUE), (61, CALM))) == []


def test_a_stricter_level_counts_towards_the_lower_one():
    # 4 orange and 3 blue: 7 of 10 meet blue or stricter (act at blue), only 4 meet orange (prepare).
    [a] = assessed(members("220102", (4, ORANGE), (3, BLUE), (3, CALM)))
    assert (a.level, a.stage) == ("orange", "act")
    assert "4 of 10" in a.evidence.en


def test_lead_time_decides_the_stage():
    # 90 % on 21 Jan (lead 72 h): past the act window of 48 h, inside prepare's 120 h.
    [a] = assessed(members("220102", (9, ORANGE), (1, CALM), calm_days=3))
    assert (a.stage, a.lead_time_h) == ("prepare", 72.0)
    # the region's own windows: prepare from 2 days out only: nothing on 21 Jan
    assert assessed(members("220102", (9, ORANGE), (1, CALM), calm_days=3),
                    cold_wave={"ensemble": {"use": "ensemble", "prepare": {"min_pct": 40, "within_h": 48},
                                            "act": {"min_pct": 70, "within_h": 24}}}) == []


def test_deterministic_rules_ignore_members_by_default():
    assert assessed(members("220102", (10, ORANGE)), cold_wave={}) == []


def test_members_without_a_day_are_not_counted():
    # 7 members meet orange on 18 Jan; 3 others end before it (a shorter model run): 7 of 7.
    frame = members("220102", (7, ORANGE), (3, CALM))
    frame = frame[~((frame["member"] >= 7) & (frame["day"] == pd.Timestamp("2026-01-18")))]
    [a] = assessed(frame)
    assert ("7 of 7" in a.evidence.en, a.stage) == (True, "act")


def decide(use: str, ensemble_frame: pd.DataFrame, deterministic_days: list):
    ruleset = rules(cold_wave={"ensemble": {"use": use}})
    thresholds = ruleset.thresholds(REGIONS)
    det = assess_cold_wave(daily("220202", deterministic_days), thresholds, TZ, ruleset, NOW)
    ens = EnsembleDaily.from_frame(ensemble_frame)
    return decided(det, ens, assess_ensemble(ens, thresholds, TZ, ruleset, NOW), thresholds)


def test_ensemble_decides_where_it_has_members_and_the_forecast_stands_in_where_not():
    quiet = members("220202", (1, ORANGE), (9, CALM))  # 10 %: the ensemble says nothing
    assert decide("ensemble", quiet, ORANGE) == []
    assert decide("deterministic", quiet, ORANGE)[0].level == "orange"
    elsewhere = members("220102", (1, ORANGE), (9, CALM))  # no members for 220202: its forecast decides
    [a] = decide("ensemble", elsewhere, ORANGE)
    assert (a.region_code, a.level, a.evidence.values.get("source")) == ("220202", "orange", None)


def test_both_takes_the_more_severe():
    [a] = decide("both", members("220202", (8, ORANGE), (2, CALM)), BLUE)
    assert (a.level, a.evidence.values["source"]) == ("orange", "ensemble")
    [a] = decide("both", members("220202", (5, BLUE), (5, CALM)), ORANGE)
    assert (a.level, a.stage, a.evidence.values.get("source")) == ("orange", "act", None)


def test_act_must_be_stricter_than_prepare():
    with pytest.raises(Exception, match="act needs at least prepare"):
        rules(cold_wave={"ensemble": {"act": {"min_pct": 30, "within_h": 48}}})
