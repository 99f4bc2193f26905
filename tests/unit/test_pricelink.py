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
    return assess_price_linkage(table, REGIONS, ruleset, NOW).set_index("region_code")


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
    started = decide(cpi(("000000", "2025-12", 1.0, rise, "2026-01-09")), ruleset).loc[["110101"]].reset_index()
    return subsidy_amounts(started, caseload("110101", urban_standard, rural_standard, **counts)).iloc[0]


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
    december = assess_price_linkage(table, REGIONS, rules(), at("2025-12-20T00:00:00"))
    january = assess_price_linkage(table, REGIONS, rules(), NOW)
    assert december.set_index("region_code").loc["110101", ["month", "started"]].tolist() == ["2025-11", True]
    assert january.set_index("region_code").loc["110101", ["month", "started"]].tolist() == ["2025-12", False]


def test_a_replayed_month_is_judged_by_the_rules_of_that_month():
    # The shipped rules carry 2022's temporary change: a CPI start of 3.0 % for Sept 2022 - Mar 2023.
    table = cpi(("000000", "2022-10", 3.2, 1.0, "2022-11-09"), ("000000", "2023-04", 3.2, 1.0, "2023-05-11"))
    october = assess_price_linkage(table, REGIONS, rules(), at("2022-11-20T00:00:00")).set_index("region_code")
    april = assess_price_linkage(table, REGIONS, rules(), at("2023-05-20T00:00:00")).set_index("region_code")
    assert october.loc["110101", ["month", "started", "triggered_by"]].tolist() == ["2022-10", True, "cpi"]
    assert april.loc["110101", ["month", "started"]].tolist() == ["2023-04", False]


def test_a_period_lowering_the_national_start_is_not_undone_by_a_local_one():
    # Wuhan-like local start of 3.3 %: 3.3 in normal months, the period's 3.0 while it lasts.
    ruleset = rules(overrides={"110000": {"price_linkage": {"cpi_start_pct": 3.3}}})
    normal = ruleset.in_month("2024-01").thresholds(REGIONS)["price_linkage.cpi_start_pct"]
    temporary = ruleset.in_month("2023-03").thresholds(REGIONS)["price_linkage.cpi_start_pct"]
    assert normal.to_dict() == {"220102": 3.5, "220202": 3.5, "110101": 3.3}
    assert temporary.to_dict() == {"220102": 3.0, "220202": 3.0, "110101": 3.0}


@pytest.mark.parametrize("period, problem", [
    ({"start": "2023-03", "until": "2022-09", "changes": {"price_linkage": {"cpi_start_pct": 3.0}}},
     "rules.yaml: periods.0: Value error, until must not come before start"),
    ({"start": "2022-09", "until": "2023-03", "changes": {"price_linkage": {"cpi_start_pct": 4.0}}},
     "rules.yaml: periods.0.changes.price_linkage.cpi_start_pct: Input should be less than or equal to 3.5"),
    ({"start": "2022-9", "until": "2023-03", "changes": {"price_linkage": {"cpi_start_pct": 3.0}}},
     "rules.yaml: periods.0.start: String should match pattern"),
])
def test_bad_periods_are_refused_naming_the_field(period, problem):
    from triggers.validation import InvalidConfig
    with pytest.raises(InvalidConfig) as caught:
        rules(periods=[period])
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
