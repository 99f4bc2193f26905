"""Townships (nine-digit codes) as regions: their areas, a county's override, a county's official warning."""

from __future__ import annotations

import pandas as pd
import pytest

from triggers.official import assess_official
from triggers.regioncodes import ancestry, area_prefix, is_region_code
from tests.unit.helpers import at, rules, warning_rows

TOWNSHIPS = pd.DataFrame([
    {"code": code, "name": name, "province_code": "220000", "prefecture_code": "220100", "timezone": "Asia/Shanghai"}
    for code, name in (("220102001", "南岭街道"), ("220102100", "某镇"), ("220103001", "宽城街道"))])


@pytest.mark.parametrize("code, prefix", [
    ("220000", "22"), ("220100", "2201"), ("220102", "220102"),
    ("220102100", "220102100"),  # a township serial ending in 00 is not a prefecture
])
def test_an_area_code_names_the_prefix_its_regions_share(code, prefix):
    assert area_prefix(code) == prefix


def test_a_township_lies_in_its_county_prefecture_and_province():
    assert ancestry("220102100") == ("220000", "220100", "220102", "220102100")
    assert ancestry("220102") == ("220000", "220100", "220102")
    assert [is_region_code(c) for c in ("220102", "220102001", "2201020", "22010200X", "220102001001")] == [
        True, True, False, False, False]


def test_a_county_override_reaches_its_townships_and_no_others():
    ruleset = rules(overrides={"220102": {"cold_wave": {"yellow": {"drop_c": 9}}}})
    thresholds = ruleset.thresholds(TOWNSHIPS)
    assert thresholds["cold_wave.yellow.drop_c"].to_dict() == {"220102001": 9, "220102100": 9, "220103001": 10}


def test_a_county_warning_covers_each_of_its_townships():
    ruleset = rules()
    frame = warning_rows({"region_code": "220102", "warning_id": "a", "event_code": "1005", "colour": "orange"})
    alerts = assess_official(frame, ruleset.thresholds(TOWNSHIPS), ruleset, at("2026-01-17T16:00:00"))
    assert {(a.region_code, a.level) for a in alerts} == {("220102001", "orange"), ("220102100", "orange")}
