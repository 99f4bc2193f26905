"""Price linkage: start rule, index fallback, amounts with rounding and floor."""

from __future__ import annotations

import pandas as pd
import pytest

from triggers.pricelink import assess_price_linkage, subsidy_amounts
from tests.unit.helpers import REGIONS, at, rules

NOW = at("2026-01-20T00:00:00")


def cpi(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["area_code", "month", "cpi_yoy", "food_cpi_yoy", "released_on"])
    frame["released_on"] = pd.to_datetime(frame["released_on"], utc=True)
    return frame


def decide(table, ruleset=None):
    ruleset = ruleset or rules()
    return assess_price_linkage(table, REGIONS, ruleset.thresholds(REGIONS), NOW).set_index("region_code")


@pytest.mark.parametrize("cpi_yoy, food, started, by, rise, amount_by", [
    (3.5, 0.0, True, "cpi", 3.5, "cpi"), (3.4, 5.9, False, "", 0.0, ""), (1.0, 6.0, True, "food", 6.0, "food"),
    (3.6, 6.4, True, "both", 6.4, "food"), (4.1, 6.0, True, "both", 6.0, "food"),
    (6.5, 6.2, True, "both", 6.5, "cpi"), (6.0, 6.0, True, "both", 6.0, "cpi"),  # a tie: the general index
])
def test_start_rule_and_the_index_that_sets_the_amount(cpi_yoy, food, started, by, rise, amount_by):
    row = decide(cpi(("000000", "2025-12", cpi_yoy, food, "2026-01-09"))).loc["110101"]
    assert (row.started, row.triggered_by, row.rise_pct, row.amount_by) == (started, by, rise, amount_by)


def test_index_falls_back_county_prefecture_province_nation_and_says_which():
    table = cpi(("000000", "2025-12", 1.0, 1.0, "2026-01-09"), ("220000", "2025-12", 1.0, 6.4, "2026-01-15"),
                ("220100", "2025-12", 1.0, 5.8, "2026-01-16"))
    result = decide(table)
    assert result.loc["220102", ["index_area", "index_scope", "started"]].tolist() == ["220100", "prefecture", False]
    assert result.loc["220202", ["index_area", "index_scope", "started"]].tolist() == ["220000", "province", True]
    assert result.loc["110101", ["index_area", "index_scope", "started"]].tolist() == ["000000", "nation", False]


def test_only_published_figures_count():
    table = cpi(("000000", "2025-12", 1.0, 1.0, "2026-01-09"), ("000000", "2026-01", 4.0, 1.0, "2026-02-10"))
    row = decide(table).loc["110101"]
    assert (row.month, row.started) == ("2025-12", False)


def test_a_locally_lowered_threshold_starts_earlier():
    ruleset = rules(overrides={"220000": {"price_linkage": {"food_cpi_start_pct": 5.5}}})
    result = decide(cpi(("000000", "2025-12", 1.0, 5.8, "2026-01-09")), ruleset)
    assert bool(result.loc["220202", "started"]) and not bool(result.loc["110101", "started"])


def caseload(code, urban_standard, rural_standard, **counts):
    base = dict(region_code=code, dibao_urban=0, dibao_rural=0, tekun_urban=0, tekun_rural=0, orphans=0,
                unsupported_children=0, dibao_standard_urban=urban_standard, dibao_standard_rural=rural_standard)
    return pd.DataFrame([base | counts])


def amounts(rise, urban_standard, rural_standard, ruleset=None, **counts):
    ruleset = ruleset or rules()
    started = pd.DataFrame([{"region_code": "110101", "month": "2025-12", "index_area": "000000",
                             "index_scope": "nation", "cpi_yoy": 1.0, "food_cpi_yoy": rise,
                             "released_on": NOW, "triggered_by": "food", "amount_by": "food", "rise_pct": rise,
                             "started": True}])
    return subsidy_amounts(started, caseload("110101", urban_standard, rural_standard, **counts),
                           ruleset.thresholds(REGIONS)).iloc[0]


def test_amount_is_standard_times_rise_rounded_half_up():
    row = amounts(6.4, 740, 533, dibao_urban=10, tekun_urban=2, orphans=1, dibao_rural=5, tekun_rural=1)
    assert (row.per_person_urban, row.per_person_rural) == (47.0, 34.0)  # 47.36 -> 47, 34.112 -> 34
    assert (row.recipients_urban, row.recipients_rural) == (13, 6)
    assert row.total_yuan == 47 * 13 + 34 * 6


def test_half_a_yuan_rounds_up_even_through_float_noise():
    assert amounts(6.5, 700, 100).per_person_urban == 46.0  # 45.5 exactly -> 46


def test_floor_and_finer_rounding_are_local_choices():
    ruleset = rules(overrides={"110000": {"price_linkage": {"floor_yuan": 30, "round_to_yuan": 0.01}}})
    row = amounts(6.1, 533, 300, ruleset)
    assert row.per_person_urban == 32.51  # 533 x 6.1 % = 32.513
    assert row.per_person_rural == 30.0   # 18.30 lifted to the floor


def test_the_mechanism_stops_the_month_no_condition_holds():
    table = cpi(("000000", "2025-11", 3.6, 1.0, "2025-12-10"), ("000000", "2025-12", 3.4, 5.9, "2026-01-09"))
    december = assess_price_linkage(table, REGIONS, rules().thresholds(REGIONS), at("2025-12-20T00:00:00"))
    january = assess_price_linkage(table, REGIONS, rules().thresholds(REGIONS), NOW)
    assert december.set_index("region_code").loc["110101", ["month", "started"]].tolist() == ["2025-11", True]
    assert january.set_index("region_code").loc["110101", ["month", "started"]].tolist() == ["2025-12", False]
