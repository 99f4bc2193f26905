"""Open-Meteo ensemble payloads -> each member's local days, and malformed ones refused by name.

The shape follows Open-Meteo's ensemble API documentation (https://open-meteo.com/en/docs/ensemble-api):
the forecast API's layout, a list in request order for several coordinates, and one hourly series per
member — `temperature_2m` (the control run) and `temperature_2m_member01` … — each with its unit in
`hourly_units`. The values are built here so that each member's daily minimum is known."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from warning.feeds import FeedRejected
from warning.feeds.ensemble import parse_ensemble
from warning.feeds.formats import parsed

HOURS = 72  # 17 Jan 16:00 UTC (18 Jan 00:00 in Beijing) for three days
TIMES = [(datetime(2026, 1, 17, 16) + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in range(HOURS)]


def location(minima: list[float], wind_kmh: float = 36.0, **changes) -> dict:
    """Member n's temperature is 10 °C all day but for one hour at its minimum on each local day."""
    hourly, units = {"time": TIMES}, {"time": "iso8601"}
    for number, low in enumerate(minima):
        suffix = f"_member{number:02d}" if number else ""
        temps = [10.0] * HOURS
        for day in range(3):
            temps[day * 24 + 5] = low - day
        hourly[f"temperature_2m{suffix}"], units[f"temperature_2m{suffix}"] = temps, "°C"
        hourly[f"wind_speed_10m{suffix}"], units[f"wind_speed_10m{suffix}"] = [wind_kmh] * HOURS, "km/h"
    base = {"latitude": 43.9, "longitude": 125.3, "utc_offset_seconds": 0, "timezone": "GMT",
            "hourly_units": units, "hourly": hourly}
    for key, value in changes.items():
        target, _, field = key.partition("__")
        base[target][field] = value
    return base


def parse(*locations, codes=("220102", "650102"), zones=("Asia/Shanghai", "Asia/Urumqi")):
    return parse_ensemble(json.dumps(list(locations)).encode(), list(codes), list(zones), "ens")


def test_every_member_becomes_local_days_in_the_regions_zone():
    frame = parse(location([-1.0, -2.0, -3.0]), location([5.0, 6.0]))
    beijing = frame[frame["region_code"] == "220102"].sort_values(["member", "day"])
    assert beijing["member"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert beijing["day"].dt.strftime("%m-%d").tolist()[:3] == ["01-18", "01-19", "01-20"]
    assert beijing["tmin"].tolist() == [-1.0, -2.0, -3.0, -2.0, -3.0, -4.0, -3.0, -4.0, -5.0]
    assert beijing["wind_max_ms"].round(6).unique().tolist() == [10.0]  # 36 km/h
    # Urumqi is two hours behind Beijing: 17 Jan has 2 hours there (no day), 20 Jan 22 of 24 (a day)
    urumqi = frame[frame["region_code"] == "650102"]
    assert sorted(urumqi["member"].unique()) == [0, 1]
    assert urumqi["day"].dt.strftime("%m-%d").unique().tolist() == ["01-18", "01-19", "01-20"]


def test_a_member_without_wind_meets_no_wind_criterion():
    loc = location([-1.0, -2.0])
    del loc["hourly"]["wind_speed_10m_member01"]
    frame = parse(loc, codes=("220102",), zones=("Asia/Shanghai",))
    assert frame.groupby("member")["wind_max_ms"].apply(lambda s: s.isna().all()).tolist() == [False, True]


@pytest.mark.parametrize("change, words", [
    (lambda loc: loc["hourly"].pop("temperature_2m_member01"), "hourly: 1 temperature_2m member series, an ensemble needs at least 2"),
    (lambda loc: loc["hourly_units"].update(temperature_2m_member01="K"), "hourly_units.temperature_2m_member01: unit 'K'"),
    (lambda loc: loc["hourly"]["temperature_2m_member01"].__setitem__(3, 99.0), "hourly.temperature_2m_member01: value 99.0 outside"),
    (lambda loc: loc["hourly"]["wind_speed_10m_member01"].pop(), "hourly.wind_speed_10m_member01: expected 72 values"),
    (lambda loc: loc.pop("hourly"), "hourly: missing"),
])
def test_malformed_members_are_refused_by_name(change, words):
    loc = location([-1.0, -2.0])
    change(loc)
    with pytest.raises(FeedRejected, match="ens\\[0\\] \\(220102\\): " + words.replace("(", "\\(").replace(")", "\\)")):
        parse(loc, codes=("220102",), zones=("Asia/Shanghai",))


def test_locations_must_match_the_request_and_errors_come_in_the_providers_words():
    with pytest.raises(FeedRejected, match="expected 2 locations in request order, got 1"):
        parse(location([-1.0, -2.0]))
    pulled = parsed("open-meteo-ensemble", "ens", json.dumps({"error": True, "reason": "Cannot initialize EnsembleMultiDomains from invalid String value ecmwf_ifs26"}).encode(),
                    {"regions": ["220102"], "zones": ["Asia/Shanghai"]})
    assert not pulled.ok and "the provider answered with an error: Cannot initialize" in pulled.error


def test_a_scenario_shift_moves_the_members_days():
    payload = json.dumps(location([-1.0, -2.0])).encode()
    request = {"regions": ["220102"], "zones": ["Asia/Shanghai"], "shift_days": 2}
    pulled = parsed("open-meteo-ensemble", "ens", payload, request)
    assert pulled.ok and pulled.data["day"].min().strftime("%m-%d") == "01-20"
