"""Open-Meteo forecast responses -> the normalised forecast frame.

A multi-location request answers with a JSON list in request order (one object for a single
location); locations are matched by that order, since Open-Meteo snaps coordinates to its grid.
Every unit the payload declares is converted: wind in km/h unless asked otherwise, and so on.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from warning.feeds import FeedRejected, json_payload, provider_error

VARIABLES = {"temperature_2m": "temp", "apparent_temperature": "apparent_temp",
             "wind_speed_10m": "wind_speed", "wind_gusts_10m": "wind_gusts",
             "precipitation": "precipitation", "snowfall": "snowfall", "soil_temperature_0cm": "ground_temp"}
REQUIRED = ("temperature_2m", "wind_speed_10m")
CONVERSIONS = {
    "°C": lambda x: x, "°F": lambda x: (x - 32) * 5 / 9,
    "km/h": lambda x: x / 3.6, "m/s": lambda x: x, "mp/h": lambda x: x * 0.44704,
    "kn": lambda x: x * 0.514444, "mm": lambda x: x, "inch": lambda x: x * 25.4, "cm": lambda x: x,
}
UNIT_KIND = {"temperature_2m": ("°C", "°F"), "apparent_temperature": ("°C", "°F"),
             "wind_speed_10m": ("km/h", "m/s", "mp/h", "kn"), "wind_gusts_10m": ("km/h", "m/s", "mp/h", "kn"),
             "precipitation": ("mm", "inch"), "snowfall": ("cm", "inch"), "soil_temperature_0cm": ("°C", "°F")}
PLAUSIBLE = {"temp": (-80, 60), "ground_temp": (-90, 80), "apparent_temp": (-100, 70), "wind_speed": (0, 120),
             "wind_gusts": (0, 150), "precipitation": (0, 500), "snowfall": (0, 500)}
HOURLY_PARAMETER = ",".join(VARIABLES)


def parse_forecast(payload: bytes, region_codes: list[str], source: str) -> pd.DataFrame:
    data = json_payload(payload, source)
    provider_error(data, source)
    locations = [data] if isinstance(data, dict) else data
    if not isinstance(locations, list) or len(locations) != len(region_codes):
        count = len(locations) if isinstance(locations, list) else type(data).__name__
        raise FeedRejected(f"{source}: expected {len(region_codes)} locations in request order, got {count}")
    notes: list[str] = []
    columns = [location_columns(loc, code, f"{source}[{i}] ({code})", notes)
               for i, (loc, code) in enumerate(zip(locations, region_codes))]
    # One frame from the joined columns: a frame per location and a concat cost a fifth of a national pull.
    frame = pd.DataFrame({name: np.concatenate([c[name] for c in columns]) for name in columns[0]})
    frame["valid_time"] = frame["valid_time"].dt.tz_localize("UTC")
    frame.attrs["notes"] = notes
    return frame


def location_columns(location: object, region_code: str, where: str, notes: list[str]) -> dict[str, np.ndarray]:
    """One location's hourly rows as columns; valid_time as UTC datetime64[us] without a zone.

    Open-Meteo pads a model's series with null past its horizon: those trailing hours are cut (and said
    in `notes`), while a null inside the series is refused."""
    provider_error(location, where)
    if not isinstance(location, dict) or not isinstance(location.get("hourly"), dict):
        raise FeedRejected(f"{where}: hourly: missing")
    hourly, units = location["hourly"], location.get("hourly_units") or {}
    times = valid_times(hourly.get("time"), units.get("time", "iso8601"),
                        location.get("utc_offset_seconds", 0), where)
    columns = {"region_code": np.full(len(times), region_code, dtype=object), "valid_time": times}
    for variable, name in VARIABLES.items():
        if variable not in hourly:
            if variable in REQUIRED:
                raise FeedRejected(f"{where}: hourly.{variable}: missing")
            columns[name] = np.full(len(times), np.nan)
            continue
        columns[name] = converted(hourly[variable], units.get(variable), variable, len(times), where)
    horizon = valid_horizon(columns, where)
    if horizon < len(times):
        notes.append(f"{where}: values end {len(times) - horizon} h before the time axis "
                     f"(after {pd.Timestamp(times[horizon - 1]):%Y-%m-%d %H:%M} UTC): horizon cut there")
        columns = {name: values[:horizon] for name, values in columns.items()}
    return columns


def valid_horizon(columns: dict[str, np.ndarray], where: str) -> int:
    """Hours up to the last one every required variable has; a missing value before it is refused."""
    missing = np.zeros(len(columns["valid_time"]), dtype=bool)
    for variable in REQUIRED:
        missing |= np.isnan(columns[VARIABLES[variable]])
    present = np.flatnonzero(~missing)
    if not len(present):
        raise FeedRejected(f"{where}: hourly: no hour has every required value ({', '.join(REQUIRED)})")
    horizon = int(present[-1]) + 1
    for variable in REQUIRED:
        gaps = np.flatnonzero(np.isnan(columns[VARIABLES[variable]][:horizon]))
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
    parsed = times.as_unit("us").tz_convert(None).to_numpy()
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
