"""Rule validation and inheritance: every bad value is refused with its place named."""

from __future__ import annotations

import pytest

from triggers.rules import parse_rules
from triggers.validation import InvalidConfig
from tests.unit.helpers import KNOWN, REGIONS, rules, shipped_rules_data


def problems_of(data) -> list[str]:
    with pytest.raises(InvalidConfig) as caught:
        parse_rules(data, KNOWN)
    return caught.value.problems


def test_shipped_rules_are_valid():
    assert rules().ruleset.cold_wave.orange.drop_c == 12


def test_negative_threshold_is_refused_with_its_key():
    data = shipped_rules_data()
    data["cold_wave"]["blue"]["drop_c"] = -8
    assert problems_of(data) == ["rules.yaml: cold_wave.blue.drop_c: Input should be greater than 0 (got -8)"]


def test_levels_must_be_strictly_ordered():
    data = shipped_rules_data()
    data["cold_wave"]["orange"]["drop_c"] = 9  # below yellow's 10
    [problem] = problems_of(data)
    assert "cold_wave" in problem and "orange must be stricter than yellow" in problem


def test_unknown_keys_are_refused():
    data = shipped_rules_data()
    data["cold_wave"]["blue"]["drop"] = 8
    assert "cold_wave.blue.drop: Extra inputs are not permitted" in problems_of(data)[0]


def test_unknown_override_region_is_refused():
    data = shipped_rules_data() | {"overrides": {"999999": {"price_linkage": {"floor_yuan": 5}}}}
    assert problems_of(data) == ["rules.yaml: overrides.999999: unknown region code"]


def test_price_thresholds_may_be_lowered_never_raised():
    lowered = rules(overrides={"220000": {"price_linkage": {"cpi_start_pct": 3.0}}})
    assert lowered.thresholds(REGIONS).loc["220102", "price_linkage.cpi_start_pct"] == 3.0
    data = shipped_rules_data() | {"overrides": {"220000": {"price_linkage": {"cpi_start_pct": 3.0}},
                                                 "220100": {"price_linkage": {"cpi_start_pct": 3.2}}}}
    assert problems_of(data) == ["rules.yaml: overrides.220100.price_linkage.cpi_start_pct: may be "
                                 "lowered locally, never raised above 3.0"]


def test_national_price_thresholds_cannot_exceed_the_national_notice():
    data = shipped_rules_data()
    data["price_linkage"]["food_cpi_start_pct"] = 6.5
    assert "price_linkage.food_cpi_start_pct: Input should be less than or equal to 6" in problems_of(data)[0]


def test_override_in_an_override_is_validated_like_the_rest():
    data = shipped_rules_data() | {"overrides": {"220100": {"cold_wave": {"red": {"window_h": 12}}}}}
    [problem] = problems_of(data)
    assert problem.startswith("rules.yaml: overrides.220100.cold_wave.red.window_h:")


def test_thresholds_inherit_nation_province_prefecture_county():
    ruleset = rules(overrides={
        "220000": {"cold_wave": {"blue": {"wind_level_min": 4}}, "price_linkage": {"floor_yuan": 10}},
        "220100": {"price_linkage": {"floor_yuan": 20}},
        "220102": {"cold_wave": {"blue": {"drop_c": 7}}},
    })
    table = ruleset.thresholds(REGIONS)
    columns = ["cold_wave.blue.wind_level_min", "cold_wave.blue.drop_c", "price_linkage.floor_yuan"]
    assert table.loc["220102", columns].tolist() == [4, 7, 20]
    assert table.loc["220202", columns].tolist() == [4, 8, 10]
    assert table.loc["110101", columns].tolist() == [5, 8, 0]


def test_version_changes_with_content():
    assert rules().version != rules(overrides={"220000": {"price_linkage": {"floor_yuan": 30}}}).version
