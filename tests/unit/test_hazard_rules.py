"""GB/T 21987 grades, frost, persistent cold, night shelter and official warnings at their edges."""

from __future__ import annotations

import pandas as pd
import pytest

from triggers.daily_rules import assess_grades, assess_persistent_cold
from triggers.hourly_rules import assess_frost, assess_shelter
from triggers.official import assess_official
from tests.unit.helpers import REGIONS, at, daily, rules, warning_rows

NOW = at("2026-01-17T16:00:00")  # 00:00 on 18 Jan in Beijing
TZ = REGIONS.set_index("code")["timezone"]


@pytest.mark.parametrize("values, expected", [
    ([(12.0, 0), (4.0, 0)], ("blue", "寒潮")),              # 8 in 24 h, min 4
    ([(11.9, 0), (4.0, 0)], None),                         # 7.9 in 24 h
    ([(14.0, 0), (9.0, 0), (4.0, 0)], ("blue", "寒潮")),    # 10 in 48 h
    ([(13.9, 0), (9.0, 0), (4.0, 0)], None),               # 9.9 in 48 h, 5 in 24 h
    ([(16.0, 0), (12.0, 0), (8.0, 0), (4.0, 0)], ("blue", "寒潮")),  # 12 in 72 h
    ([(12.0, 0), (2.0, 0)], ("yellow", "强寒潮")),          # 10 in 24 h, min 2
    ([(12.1, 0), (2.1, 0)], ("blue", "寒潮")),              # min 2.1: not strong
    ([(12.0, 0), (0.0, 0)], ("orange", "超强寒潮")),        # 12 in 24 h, min 0
    ([(16.0, 0), (8.0, 0), (0.0, 0)], ("orange", "超强寒潮")),  # 16 in 72 h... and 8/24 h, 16/48 h
])
def test_gbt_grades(values, expected):
    first_day = "2026-01-17" if len(values) == 2 else ("2026-01-16" if len(values) == 3 else "2026-01-15")
    ruleset = rules()
    result = assess_grades(daily("220102", values, first_day=first_day), ruleset.thresholds(REGIONS), TZ, ruleset, NOW)
    assert ((result[0].level, result[0].evidence.values["grade"]) if result else None) == expected


def test_a_grade_whose_72_hour_window_lacked_a_day_says_so():
    # 16 Jan missing (a gap): the 72 h drop of 18 Jan is taken over 15 and 17 Jan, 48 h of data.
    ruleset = rules()
    frame = daily("220102", [(16.0, 0), (9.0, 0), (8.0, 0), (4.0, 0)], first_day="2026-01-15")
    frame = frame[frame["day"] != pd.Timestamp("2026-01-16")]
    [result] = assess_grades(frame, ruleset.thresholds(REGIONS), TZ, ruleset, NOW)
    assert (result.evidence.values["drop_72h_c"], result.evidence.values["data_hours"]) == (12.0, 48)
    assert "72 小时降温仅按 48 小时计" in result.evidence.zh and "covers only 48 h" in result.evidence.en
    whole = assess_grades(daily("220102", [(16.0, 0), (9.0, 0), (8.0, 0), (4.0, 0)], first_day="2026-01-15"),
                          ruleset.thresholds(REGIONS), TZ, ruleset, NOW)
    assert "data_hours" not in whole[0].evidence.values and "仅按" not in whole[0].evidence.zh


def hourly(code: str, start: str, values: list[float], column: str) -> pd.DataFrame:
    times = pd.date_range(start, periods=len(values), freq="h", tz="UTC")
    return pd.DataFrame({"region_code": code, "valid_time": times, "temp": values, "apparent_temp": values,
                         "ground_temp": values if column == "ground_temp" else float("nan")})


def frost_level(values, start="2026-10-20T16:00", now="2026-10-20T16:00:00"):
    ruleset = rules()
    frame = hourly("220102", start, values, "ground_temp")
    result = assess_frost(frame, ruleset.thresholds(REGIONS), TZ, ruleset, at(now))
    return result[0].level if result else None


@pytest.mark.parametrize("offset_h, value, expected", [
    (10, 0.0, "blue"), (10, 0.1, None), (40, 0.0, "blue"), (50, -0.5, None),  # blue: <= 0 within 48 h
    (20, -3.0, "yellow"), (30, -3.0, "blue"),                                  # yellow: <= -3 within 24 h
    (20, -5.0, "orange"), (23, -5.1, "orange"), (25, -6.0, "blue"),            # orange: <= -5 within 24 h
])
def test_frost_levels_and_their_windows(offset_h, value, expected):
    values = [5.0] * 60
    values[offset_h] = value
    assert frost_level(values) == expected


def test_frost_is_seasonal():
    values = [5.0] * 30
    values[10] = -6.0
    assert frost_level(values, start="2026-01-17T16:00", now="2026-01-17T16:00:00") is None  # January: not a frost month


def test_frost_without_ground_temperature_uses_the_air_and_says_so():
    ruleset = rules()
    frame = hourly("220102", "2026-10-20T16:00", [5.0] * 10 + [-1.0] + [5.0] * 10, "temp")
    [result] = assess_frost(frame, ruleset.thresholds(REGIONS), TZ, ruleset, at("2026-10-20T16:00:00"))
    assert result.evidence.values["on_ground"] is False and "无地温资料" in result.evidence.zh


def frost_evidence(values):
    ruleset = rules()
    [result] = assess_frost(hourly("220102", "2026-10-20T16:00", values, "ground_temp"), ruleset.thresholds(REGIONS),
                            TZ, ruleset, at("2026-10-20T16:00:00"))
    return result.level, result.evidence


def test_frost_evidence_names_the_coldest_hour_not_the_first_that_crossed():
    values = [5.0] * 60
    values[2], values[30], values[40] = -0.5, -2.0, -2.8  # all blue (none -3 within 24 h)
    level, evidence = frost_evidence(values)
    assert (level, evidence.values["value_c"], evidence.values["at"]) == ("blue", -2.8, "2026-10-22T08:00:00+00:00")
    assert "10月22日16时地面最低温度 −2.8 °C → 霜冻蓝色" == evidence.zh  # 08:00 UTC, 16:00 in Beijing


def test_frost_evidence_adds_the_lowest_of_the_period_when_it_is_not_the_deciding_hour():
    values = [5.0] * 60
    values[10], values[12], values[30] = -5.2, -5.6, -6.0  # orange within 24 h; -6.0 later, beyond orange's window
    level, evidence = frost_evidence(values)
    assert (level, evidence.values["value_c"], evidence.values["lowest_c"]) == ("orange", -5.6, -6.0)
    assert evidence.zh.endswith("→ 霜冻橙色;期间最低 −6.0 °C(10月22日06时)")
    assert evidence.en.endswith("→ frost orange; lowest −6.0 °C at 22 Oct 06:00")


def test_night_shelter_evidence_names_the_coldest_night_hour():
    values = [5.0] * 48
    values[20], values[23], values[26] = -15.5, -16.5, -16.0  # all yellow, 20:00-02:00 in Beijing
    ruleset = rules()
    [result] = assess_shelter(hourly("220102", "2026-01-17T16:00", values, "temp"), ruleset.thresholds(REGIONS),
                              TZ, ruleset, NOW)
    assert (result.level, result.evidence.values["apparent_c"]) == ("yellow", -16.5)
    assert result.evidence.zh.startswith("01月18日23时夜间体感温度 −16.5 °C")
    assert result.onset == at("2026-01-18T12:00:00")  # the onset is still the first hour that crossed


@pytest.mark.parametrize("local_hour, value, expected", [
    (20, 0.0, "blue"), (20, 0.1, None), (12, -30.0, None),         # night only (16:00-08:00 local)
    (3, -15.0, "yellow"), (7, -20.6, "orange"), (8, -25.0, None),  # 08:00 is day again
    (16, -20.5, "yellow"),
])
def test_night_shelter_levels(local_hour, value, expected):
    values = [5.0] * 48
    values[local_hour] = value  # the series starts at local midnight of 18 Jan
    ruleset = rules()
    result = assess_shelter(hourly("220102", "2026-01-17T16:00", values, "temp"), ruleset.thresholds(REGIONS), TZ,
                            ruleset, NOW)
    assert (result[0].level if result else None) == expected


def test_night_shelter_evidence_tells_the_hour_in_the_region_s_own_zone():
    regions = REGIONS.assign(timezone=["Asia/Shanghai", "Asia/Urumqi", "Asia/Shanghai"])  # 昌邑区 on UTC+6 here
    values = [5.0] * 48
    values[20] = -16.0  # 12:00 UTC on 18 Jan: 20:00 in Beijing, 18:00 in Urumqi
    both = pd.concat([hourly(code, "2026-01-17T16:00", values, "temp") for code in ("220102", "220202")])
    ruleset = rules()
    result = {a.region_code: a.evidence for a in assess_shelter(
        both, ruleset.thresholds(regions), regions.set_index("code")["timezone"], ruleset, NOW)}
    assert "01月18日20时夜间体感温度 −16.0 °C" in result["220102"].zh
    assert "01月18日18时夜间体感温度 −16.0 °C" in result["220202"].zh
    assert result["220202"].values["at"] == "2026-01-18T12:00:00+00:00"


def persistent(values, normals=None, region="110101"):
    ruleset = rules(overrides={"110000": {"persistent_cold": {"enabled": True}}})
    result = assess_persistent_cold(daily(region, values), ruleset.thresholds(REGIONS), TZ, ruleset, NOW, normals)
    return result[0] if result else None


def test_persistent_cold_needs_the_whole_run():
    assert persistent([(0, 0), (-10.1, 0), (-10.5, 0), (-11.0, 0)]).level == "blue"
    assert persistent([(0, 0), (-10.1, 0), (-10.0, 0), (-11.0, 0)]) is None  # -10.0 is not below -10
    assert persistent([(0, 0), (-12.1, 0), (-13.0, 0), (-12.5, 0)]).level == "yellow"


def test_persistent_cold_onset_is_the_first_cold_day():
    alert = persistent([(0, 0), (-10.1, 0), (-10.5, 0), (-11.0, 0)])
    assert alert.onset == at("2026-01-17T16:00:00") and alert.evidence.values["first_day"] == "2026-01-18"


def test_persistent_cold_below_normal():
    values = [(0, 0), (-6.0, 0), (-6.0, 0), (-6.0, 0)]
    assert persistent(values) is None
    assert persistent(values, normals=pd.Series({"110101": -0.5})).level == "blue"     # 5.5 below normal
    assert persistent(values, normals=pd.Series({"110101": 1.0})).level == "yellow"    # 7 below normal


def test_persistent_cold_is_off_where_not_turned_on():
    ruleset = rules()
    values = [(0, 0), (-20, 0), (-20, 0), (-20, 0)]
    assert assess_persistent_cold(daily("220102", values), ruleset.thresholds(REGIONS), TZ, ruleset, NOW) == []


def test_official_warnings_take_their_highest_colour():
    ruleset = rules()
    frame = warning_rows({"region_code": "220102", "warning_id": "a", "event_code": "1005", "colour": "blue"},
                         {"region_code": "220102", "warning_id": "b", "event_code": "1016", "colour": "yellow"},
                         {"region_code": "220202", "warning_id": "c", "event_code": "1006", "colour": "red"})
    [alert] = assess_official(frame, ruleset.thresholds(REGIONS), ruleset, NOW)
    assert (alert.region_code, alert.level, alert.ends) == ("220102", "yellow", at("2026-01-19T08:00:00"))
    assert alert.evidence.values["warning_ids"] == ["a", "b"]  # 1006 (wind) is not listened to
