"""The CMA cold-wave signal at its boundaries, per the official criteria."""

from __future__ import annotations

import pandas as pd
import pytest

from triggers.coldwave import assess_cold_wave
from triggers.weather import daily_weather
from tests.unit.helpers import REGIONS, at, daily, rules

# Now is 00:00 Beijing time on 18 Jan: 17 Jan is the baseline, 18 Jan onwards is assessed.
NOW = at("2026-01-17T16:00:00")
CALM = 3.0


def level_of(values, **rule_changes):
    ruleset = rules(**rule_changes)
    result = assess_cold_wave(daily("220102", values), ruleset.thresholds(REGIONS),
                              REGIONS.set_index("code")["timezone"], ruleset, NOW)
    return result[0].level if result else None


@pytest.mark.parametrize("values, expected", [
    # (tmin, wind m/s) on 17 Jan then 18 Jan
    ([(12.0, CALM), (4.0, 8.0)], "blue"),        # drop 8.0, min 4.0, level 5: blue exactly
    ([(11.9, CALM), (4.0, 8.0)], None),          # drop 7.9
    ([(12.1, CALM), (4.1, 8.0)], None),          # minimum 4.1 is above 4
    ([(12.0, CALM), (4.0, 7.9)], None),          # 7.9 m/s is level 4
    ([(14.0, CALM), (4.0, 10.8)], "yellow"),     # drop 10 in 24 h, level 6
    ([(14.0, CALM), (4.0, 10.7)], "blue"),       # 10.7 m/s is level 5: yellow needs 6
    ([(13.9, CALM), (3.9, 10.8)], "yellow"),
    ([(12.0, CALM), (0.0, 10.8)], "orange"),     # drop 12, minimum 0
    ([(12.1, CALM), (0.1, 10.8)], "yellow"),     # minimum 0.1 is above 0: not orange
    ([(11.9, CALM), (0.0, 10.8)], "yellow"),     # drop 11.9
    ([(16.0, CALM), (0.0, 13.9)], "red"),        # drop 16, level 7
    ([(15.9, CALM), (-0.1, 13.8)], "red"),       # 15.9 - (-0.1) is exactly 16.0, float noise aside
    ([(15.9, CALM), (0.0, 13.8)], "orange"),     # drop 15.9
])
def test_levels_at_their_edges(values, expected):
    assert level_of(values) == expected


def test_forty_eight_hour_window_counts_for_blue_only():
    # 4 degC a day for two days: 8 in 48 h (blue) but never 10 in 24 h (yellow).
    assert level_of([(10.0, CALM), (6.0, 10.8), (2.0, 10.8)]) == "blue"
    # 5 a day: 10 in 48 h is still not a 24 h drop of 10: blue, not yellow.
    assert level_of([(12.0, CALM), (7.0, 10.8), (2.0, 10.8)]) == "blue"


def test_forty_eight_hours_means_forty_eight_not_seventy_two():
    # 3 degC a day for three days: 8 only over 72 h.
    assert level_of([(10.0, CALM), (7.0, 8.0), (4.0, 8.0), (1.0, 8.0)]) is None


def test_wind_of_the_day_before_counts():
    # The front passes with a level-6 wind on 18 Jan; the minimum falls on 19 Jan in calm air.
    assert level_of([(14.0, CALM), (14.0, 10.8), (4.0, CALM)]) == "yellow"


def test_a_drop_that_is_over_raises_nothing():
    # The minimum fell on 16 Jan and has stayed put; today (18 Jan) shows no drop in 48 h.
    values = [(20.0, CALM), (4.0, 10.8), (4.0, CALM), (4.0, CALM)]
    ruleset = rules()
    result = assess_cold_wave(daily("220102", values, first_day="2026-01-15"), ruleset.thresholds(REGIONS),
                              REGIONS.set_index("code")["timezone"], ruleset, NOW)
    assert result == []


def test_evidence_names_the_numbers_in_both_languages():
    ruleset = rules()
    [alert] = assess_cold_wave(daily("220102", [(7.0, CALM), (-6.3, 11.0)]), ruleset.thresholds(REGIONS),
                               REGIONS.set_index("code")["timezone"], ruleset, NOW)
    assert alert.level == "orange"
    assert alert.evidence.en == "min −6.3 °C on 18 Jan, down 13.3 °C in 24 h, mean wind level 6 → orange"
    assert alert.evidence.zh == "1月18日最低气温 −6.3 °C,24 小时内下降 13.3 °C,平均风力 6 级 → 橙色"
    assert alert.evidence.values["drop_c"] == 13.3


def test_onset_lead_time_and_stage():
    ruleset = rules()
    values = [(10.0, CALM)] * 4 + [(-4.0, 11.0)]  # the drop comes on 21 Jan (local)
    [alert] = assess_cold_wave(daily("220102", values), ruleset.thresholds(REGIONS),
                               REGIONS.set_index("code")["timezone"], ruleset, NOW)
    assert alert.onset == at("2026-01-20T16:00:00")  # 21 Jan 00:00 in Beijing
    assert alert.lead_time_h == 72.0
    assert alert.stage == "prepare"
    assert alert.ends == at("2026-01-21T16:00:00")


def test_onset_beyond_the_prepare_horizon_is_not_alerted():
    values = [(10.0, CALM)] * 7 + [(-4.0, 11.0)]  # 24 Jan: 144 h ahead, beyond 120 h
    assert level_of(values) is None


def test_a_regional_override_applies_to_that_region_only():
    ruleset = rules(overrides={"220000": {"cold_wave": {"blue": {"wind_level_min": 4}}}})
    frames = pd.concat([daily("220102", [(12.0, CALM), (4.0, 7.0)]),
                        daily("110101", [(12.0, CALM), (4.0, 7.0)])])
    result = assess_cold_wave(frames, ruleset.thresholds(REGIONS), REGIONS.set_index("code")["timezone"],
                              ruleset, NOW)
    assert [(a.region_code, a.level) for a in result] == [("220102", "blue")]


def test_daily_minimum_is_taken_over_the_local_day():
    # 18:00 UTC on 17 Jan is 02:00 on 18 Jan in Beijing: its cold belongs to the 18th.
    times = pd.date_range("2026-01-16T16:00", periods=48, freq="h", tz="UTC")
    temps = [5.0] * 48
    temps[26] = -9.0  # 2026-01-17T18:00Z
    hourly = pd.DataFrame({"region_code": "220102", "valid_time": times, "temp": temps, "wind_speed": 2.0})
    result = daily_weather(hourly, REGIONS.set_index("code")["timezone"])
    by_day = dict(zip(result["day"].dt.strftime("%m-%d"), result["tmin"]))
    assert by_day == {"01-17": 5.0, "01-18": -9.0}


def test_partial_days_at_the_edges_are_dropped():
    times = pd.date_range("2026-01-17T00:00", periods=30, freq="h", tz="UTC")  # 08:00 17th .. 13:00 18th local
    hourly = pd.DataFrame({"region_code": "220102", "valid_time": times, "temp": 1.0, "wind_speed": 2.0})
    assert daily_weather(hourly, REGIONS.set_index("code")["timezone"]).empty


def test_each_region_is_explained_by_its_own_readings_and_thresholds():
    # The same front over Changchun and Beijing; Beijing's blue needs only a 6 degC drop.
    ruleset = rules(overrides={"110000": {"cold_wave": {"blue": {"drop_c": 6}}}})
    both = pd.concat([daily("220102", [(12.0, CALM), (4.0, 8.0)]), daily("110101", [(9.0, CALM), (2.5, 9.0)])])
    result = {a.region_code: a.evidence for a in assess_cold_wave(
        both, ruleset.thresholds(REGIONS), REGIONS.set_index("code")["timezone"], ruleset, NOW)}
    assert result["220102"].values | {"criterion": None} == {
        "day": "2026-01-18", "tmin_c": 4.0, "drop_c": 8.0, "window_h": 48, "wind_level": 5, "wind_ms": 8.0,
        "criterion": None, "data_hours": 24}  # two days given: the 48 h window saw one day before, and says so
    assert result["220102"].values["criterion"]["drop_c"] == 8.0
    assert result["110101"].values["criterion"] == {"drop_c": 6.0, "tmin_max_c": 4.0, "wind_level_min": 5.0}
    assert (result["110101"].values["tmin_c"], result["110101"].values["drop_c"]) == (2.5, 6.5)
    assert "1月18日最低气温 2.5 °C" in result["110101"].zh
