"""Open-Meteo forecast responses -> a grid of the request's locations (regions x hours).

A multi-location request answers with a JSON list in request order (one object for a single
location); locations are matched by that order, since Open-Meteo snaps coordinates to its grid.
Every unit the payload declares is converted: wind in km/h unless asked otherwise, and so on. Only
what a rule reads is asked for and read (triggers.grid.HOURLY_VALUES).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from triggers.grid import HourlyGrid
from warning.feeds import FeedRejected, json_payload, provider_error

VARIABLES = {"temperature_2m": "temp", "apparent_temperature": "apparent_temp",
             "wind_speed_10m": "wind_speed", "soil_temperature_0cm": "ground_temp"}
REQUIRED = ("temperature_2m", "wind_speed_10m")
CONVERSIONS = {
    "°C": lambda x: x, "°F": lambda x: (x - 32) * 5 / 9,
    "km/h": lambda x: x / 3.6, "m/s": lambda x: x, "mp/h": lambda x: x * 0.44704,
    "kn": lambda x: x * 0.514444,
}
UNIT_KIND = {"temperature_2m": ("°C", "°F"), "apparent_temperature": ("°C", "°F"),
             "wind_speed_10m": ("km/h", "m/s", "mp/h", "kn"), "soil_temperature_0cm": ("°C", "°F")}
PLAUSIBLE = {"temp": (-80, 60), "ground_temp": (-90, 80), "apparent_temp": (-100, 70), "wind_speed": (0, 120)}
HOURLY_PARAMETER = ",".join(VARIABLES)


def parse_forecast(payload: bytes, region_codes: list[str], source: str) -> HourlyGrid:
    data = json_payload(payload, source)
    provider_error(data, source)
    locations = [data] if isinstance(data, dict) else data
    if not isinstance(locations, list) or len(locations) != len(region_codes):
        count = len(locations) if isinstance(locations, list) else type(data).__name__
        raise FeedRejected(f"{source}: expected {len(region_codes)} locations in request order, got {count}")
    notes: list[str] = []
    series = [location_series(loc, f"{source}[{i}] ({code})", notes) for i, (loc, code) in enumerate(zip(locations, region_codes))]
    grid = gridded(region_codes, series)
    grid.attrs["notes"] = notes
    return grid


def gridded(region_codes: list[str], series: list[tuple[np.ndarray, dict[str, np.ndarray]]]) -> HourlyGrid:
    """The locations' series on one time axis (regions sorted, as a table's would be); a variable no
    location has a value of is left out, and a region asked twice keeps its later location."""
    codes = pd.Index(sorted(set(region_codes)), name="region_code")
    times = np.unique(np.concatenate([t for t, _ in series]))
    rows = codes.get_indexer(region_codes)
    names = [name for name in VARIABLES.values() if any(name in values for _, values in series)]
    out = {name: np.full((len(codes), len(times)), np.nan) for name in names}
    for row, (location_times, values) in zip(rows, series):
        cols = np.searchsorted(times, location_times)
        for name, column in values.items():
            out[name][row, cols] = column
    return HourlyGrid(codes, pd.DatetimeIndex(times).tz_localize("UTC"),
                      {name: grid for name, grid in out.items() if not np.isnan(grid).all()})


def location_series(location: object, where: str, notes: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One location's hours (UTC datetime64[ns] without a zone) and its converted values by name.

    Open-Meteo pads a model's series with null past its horizon: those trailing hours are cut (and said
    in `notes`), while a null inside the series is refused."""
    provider_error(location, where)
    if not isinstance(location, dict) or not isinstance(location.get("hourly"), dict):
        raise FeedRejected(f"{where}: hourly: missing")
    hourly, units = location["hourly"], location.get("hourly_units") or {}
    times = valid_times(hourly.get("time"), units.get("time", "iso8601"),
                        location.get("utc_offset_seconds", 0), where)
    values = {}
    for variable, name in VARIABLES.items():
        if variable in hourly:
            values[name] = converted(hourly[variable], units.get(variable), variable, len(times), where)
        elif variable in REQUIRED:
            raise FeedRejected(f"{where}: hourly.{variable}: missing")
    horizon = valid_horizon(values, where)
    if horizon < len(times):
        notes.append(f"{where}: values end {len(times) - horizon} h before the time axis "
                     f"(after {pd.Timestamp(times[horizon - 1]):%Y-%m-%d %H:%M} UTC): horizon cut there")
        times, values = times[:horizon], {name: column[:horizon] for name, column in values.items()}
    return times, values


def valid_horizon(values: dict[str, np.ndarray], where: str) -> int:
    """Hours up to the last one every required variable has; a missing value before it is refused."""
    missing = np.zeros(len(values["temp"]), dtype=bool)
    for variable in REQUIRED:
        missing |= np.isnan(values[VARIABLES[variable]])
    present = np.flatnonzero(~missing)
    if not len(present):
        raise FeedRejected(f"{where}: hourly: no hour has every required value ({', '.join(REQUIRED)})")
    horizon = int(present[-1]) + 1
    for variable in REQUIRED:
        gaps = np.flatnonzero(np.isnan(values[VARIABLES[variable]][:horizon]))
        if len(gaps):
            raise FeedRejected(f"{where}: hourly.{variable}: missing value at position {int(gaps[0])}")
    return horizon


def valid_times(raw, fmt: str, offset_s, where: str) -> np.ndarray:
    if not isinstance(raw, list) or not raw:
        raise FeedRejected(f"{where}: hourly.time: missing or empty")
    if not isinstance(offset_s, (int, float)) or abs(offset_s) > 14 * 3600:
        raise FeedRejected(f"{where}: utc_offset_seconds: implausible value {offset_s!r}")
    try:
        times = utc_times(tuple(raw), fmt, offset_s)
    except (ValueError, TypeError) as error:
        raise FeedRejected(f"{where}: hourly.time: unreadable times ({error})") from None
    if len(times) > 1 and not (np.diff(times) > np.timedelta64(0)).all():
        raise FeedRejected(f"{where}: hourly.time: times must strictly increase")
    return times


@functools.lru_cache(maxsize=256)
def utc_times(raw: tuple, fmt: str, offset_s: float) -> np.ndarray:
    """Parsed once per distinct time axis: the locations of one request nearly always share theirs."""
    if fmt == "unixtime":
        times = pd.to_datetime(list(raw), unit="s", utc=True)
    else:
        times = pd.to_datetime(list(raw), format="ISO8601") - pd.Timedelta(seconds=offset_s)
        times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
    parsed = times.as_unit("ns").tz_convert(None).to_numpy()
    parsed.flags.writeable = False  # (shared by every location that has this axis)
    return parsed


def converted(raw, unit: str | None, variable: str, length: int, where: str) -> np.ndarray:
    if unit not in UNIT_KIND[variable]:
        raise FeedRejected(f"{where}: hourly_units.{variable}: unit {unit!r} not one of {UNIT_KIND[variable]}")
    if not isinstance(raw, list) or len(raw) != length:
        raise FeedRejected(f"{where}: hourly.{variable}: expected {length} values")
    try:
        values = CONVERSIONS[unit](np.array(raw, dtype=float))  # (null: NaN)
    except (TypeError, ValueError, OverflowError):
        raise FeedRejected(f"{where}: hourly.{variable}: non-numeric values") from None
    name = VARIABLES[variable]
    low, high = PLAUSIBLE[name]
    bad = ~np.isnan(values) & ((values < low) | (values > high))
    if bad.any():
        raise FeedRejected(f"{where}: hourly.{variable}: value {values[bad][0]:.1f} outside {low}..{high} "
                           f"after conversion from {unit}")
    return values
