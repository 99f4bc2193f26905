"""Open-Meteo payloads: declared units honoured, and every malformed payload refused with a reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from triggers.units import beaufort_level
from warning.feeds import FeedRejected
from warning.feeds.openmeteo import parse_forecast


def location(**changes):
    base = {"latitude": 43.875, "longitude": 125.375, "utc_offset_seconds": 0, "timezone": "GMT",
            "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "wind_speed_10m": "km/h"},
            "hourly": {"time": ["2026-01-19T00:00", "2026-01-19T01:00"], "temperature_2m": [-5.0, -6.5],
                       "wind_speed_10m": [38.88, 10.0]}}
    for key, value in changes.items():
        target, _, field = key.partition("__")
        if field:
            base[target][field] = value
        else:
            base[target] = value
    return base


def parse(*locations, codes=None):
    return parse_forecast(json.dumps(list(locations)).encode(), codes or ["220102"] * len(locations), "test")


def by_region(grid, values) -> dict:
    return dict(zip(grid.codes, np.asarray(values).tolist()))


def test_km_per_hour_becomes_metres_per_second_and_keeps_its_beaufort_level():
    wind = parse(location()).values["wind_speed"][0]
    assert wind.round(2).tolist() == [10.8, 2.78]
    assert beaufort_level(wind).tolist() == [6.0, 2.0]  # 38.88 km/h is exactly 10.8 m/s


def test_fahrenheit_and_local_times_are_converted():
    grid = parse(location(hourly_units__temperature_2m="°F", utc_offset_seconds=28800,
                          hourly__temperature_2m=[32.0, 14.0]))
    assert grid.values["temp"].tolist() == [[0.0, -10.0]]
    assert grid.times.strftime("%Y-%m-%dT%H:%MZ").tolist() == ["2026-01-18T16:00Z", "2026-01-18T17:00Z"]


def test_locations_sharing_local_times_keep_their_own_offsets():
    # (time axes are parsed once and shared: the offset must be part of what is shared)
    grid = parse(location(utc_offset_seconds=28800), location(), location(utc_offset_seconds=21600),
                 codes=["220102", "650102", "540102"])
    first = by_region(grid, grid.times[np.argmax(~np.isnan(grid.values["temp"]), axis=1)].strftime("%H:%MZ"))
    assert first == {"220102": "16:00Z", "650102": "00:00Z", "540102": "18:00Z"}
    assert grid.cells() == 6  # each its two hours, on one time axis of four


def test_locations_are_matched_in_request_order():
    grid = parse(location(), location(hourly__temperature_2m=[1.0, 2.0]), codes=["220202", "220102"])
    assert by_region(grid, grid.values["temp"].max(axis=1)) == {"220102": 2.0, "220202": -5.0}


def test_a_series_every_location_sends_as_null_is_left_out_so_frost_reads_the_air():
    grid = parse(location(hourly__soil_temperature_0cm=[None, None],
                          hourly_units__soil_temperature_0cm="°C"))
    assert "ground_temp" not in grid.values and "temp" in grid.values


@pytest.mark.parametrize("payload, message", [
    (b"{not json", "not valid JSON"),
    (b'[{"timezone": "GMT\xff"}]', "not valid JSON: 'utf-8' codec can't decode byte 0xff"),
    # (NaN is not JSON, but the standard library writes it: read, then refused as a missing value)
    (json.dumps([location(hourly__temperature_2m=[float("nan"), -6.5])]).encode(),
     "temperature_2m: missing value at position 0"),
    (json.dumps([location(hourly__wind_speed_10m=["calm", 10.0])]).encode(), "wind_speed_10m: non-numeric values"),
    (json.dumps([location(hourly__wind_speed_10m=[[1.0], 10.0])]).encode(), "wind_speed_10m: non-numeric values"),
    (json.dumps([location(), location()]).encode(), "expected 1 locations in request order, got 2"),
    (json.dumps([location(hourly_units__wind_speed_10m="furlong/h")]).encode(), "hourly_units.wind_speed_10m: unit 'furlong/h'"),
    (json.dumps([location(hourly__temperature_2m=[None, -6.5])]).encode(), "temperature_2m: missing value at position 0"),
    (json.dumps([location(hourly__temperature_2m=[None, None])]).encode(), "no hour has every required value"),
    (json.dumps([location(hourly__temperature_2m=[-5.0, 95.0])]).encode(), "value 95.0 outside -80..60"),
    (json.dumps([location(hourly__time=["2026-01-19T01:00", "2026-01-19T00:00"])]).encode(), "times must strictly increase"),
    (json.dumps([location(hourly__wind_speed_10m=[1.0])]).encode(), "wind_speed_10m: expected 2 values"),
    (json.dumps([location(hourly__time=[])]).encode(), "hourly.time: missing or empty"),
    (json.dumps([{"error": True, "reason": "Latitude must be in range"}]).encode(),
     "the provider answered with an error: Latitude must be in range"),
    (json.dumps([location(hourly={"time": ["2026-01-19T00:00"], "temperature_2m": [1.0]})]).encode(),
     "hourly.wind_speed_10m: missing"),
])
def test_bad_payloads_are_refused_with_a_reason(payload, message):
    with pytest.raises(FeedRejected, match="^test") as caught:
        parse_forecast(payload, ["220102"], "test")
    assert message in str(caught.value)


def test_beaufort_levels_at_the_official_bounds():
    assert beaufort_level([7.9, 8.0, 10.7, 10.8, 13.8, 13.9, float("nan")]).tolist()[:6] == [4, 5, 5, 6, 6, 7]
    assert str(beaufort_level([float("nan")])[0]) == "nan"


def test_trailing_nulls_past_a_models_horizon_cut_that_locations_hours_and_are_said():
    times = [f"2026-01-19T{h:02d}:00" for h in range(4)]
    padded = location(hourly__time=times, hourly__temperature_2m=[-5.0, -6.0, None, None],
                      hourly__wind_speed_10m=[10.0, 10.0, None, None])
    grid = parse(padded, location(hourly__time=times, hourly__temperature_2m=[1.0, 2.0, 3.0, 4.0],
                                  hourly__wind_speed_10m=[5.0] * 4), codes=["220102", "220202"])
    assert by_region(grid, (~np.isnan(grid.values["temp"])).sum(axis=1)) == {"220102": 2, "220202": 4}
    [note] = grid.attrs["notes"]
    assert note.startswith("test[0] (220102): values end 2 h before the time axis (after 2026-01-19 01:00 UTC)")


def test_a_gap_inside_the_series_is_still_refused():
    times = [f"2026-01-19T{h:02d}:00" for h in range(3)]
    with pytest.raises(FeedRejected, match="temperature_2m: missing value at position 1"):
        parse(location(hourly__time=times, hourly__temperature_2m=[-5.0, None, -7.0],
                       hourly__wind_speed_10m=[1.0, 2.0, 3.0]))
