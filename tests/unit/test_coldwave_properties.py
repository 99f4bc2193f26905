"""Properties of the cold-wave engine over random weather (hypothesis)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from triggers.coldwave import assess_cold_wave
from triggers.levels import rank
from tests.unit.helpers import REGIONS, at, daily, rules

NOW = at("2026-01-17T16:00:00")
TZ = REGIONS.set_index("code")["timezone"]
day_values = st.tuples(st.floats(-40, 15).map(lambda v: round(v, 1)), st.floats(0, 25).map(lambda v: round(v, 1)))
weather = st.lists(day_values, min_size=3, max_size=7)


def levels(frames: pd.DataFrame, ruleset) -> dict[str, str]:
    return {a.region_code: a.level for a in assess_cold_wave(frames, ruleset.thresholds(REGIONS), TZ, ruleset, NOW)}


def frames_of(series: list[list[tuple[float, float]]]) -> pd.DataFrame:
    return pd.concat([daily(code, values) for code, values in zip(REGIONS["code"], series)])


@settings(max_examples=150, deadline=None)
@given(series=st.lists(weather, min_size=3, max_size=3), extra_drop=st.floats(0, 3).map(lambda v: round(v, 1)),
       extra_wind=st.integers(0, 2), lower_min=st.floats(0, 3).map(lambda v: round(v, 1)))
def test_stricter_thresholds_never_add_or_raise_alerts(series, extra_drop, extra_wind, lower_min):
    base = rules()
    stricter = rules(cold_wave={
        name: {"drop_c": getattr(base.ruleset.cold_wave, name).drop_c + extra_drop,
               "wind_level_min": min(17, getattr(base.ruleset.cold_wave, name).wind_level_min + extra_wind),
               "tmin_max_c": getattr(base.ruleset.cold_wave, name).tmin_max_c - lower_min}
        for name in ("blue", "yellow", "orange", "red")})
    frames = frames_of(series)
    before, after = levels(frames, base), levels(frames, stricter)
    assert set(after) <= set(before)
    assert all(rank(after[code]) <= rank(before[code]) for code in after)


@settings(max_examples=150, deadline=None)
@given(series=st.lists(weather, min_size=3, max_size=3))
def test_a_red_region_also_meets_orange(series):
    frames = frames_of(series)
    red_regions = [code for code, level in levels(frames, rules()).items() if level == "red"]
    without_red = rules(cold_wave={"red": {"drop_c": 40, "tmin_max_c": -60}})  # unreachable
    assert all(levels(frames, without_red)[code] == "orange" for code in red_regions)
