"""Open-Meteo ensemble responses (/v1/ensemble) -> each member's local-day values.

The ensemble API answers like the forecast API (a JSON list in request order for several locations),
with one hourly series per member: `temperature_2m` is the control run, `temperature_2m_member01` …
the perturbed members (51 in all for ecmwf_ifs025, 31 for gfs025, 40 for icon_seamless). A member's
series is reduced to local days here, in the region's time zone named by the request, so a national
pull holds days (regions x members x ~11) and never the hourly values of every member. Members are
numbered in the order of their names (the control first); their identity does not matter to a share.
A null inside a member's series only leaves that member out of the days it makes incomplete.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from triggers.grid import DailyGrid, HourlyGrid
from triggers.ensemble import ENSEMBLE_COLUMNS
from warning.feeds import FeedRejected, json_payload, provider_error
from warning.feeds.openmeteo import converted, valid_times

SERIES = {"temperature_2m": "temp", "wind_speed_10m": "wind_speed"}
MEMBER_SERIES = re.compile(r"^(temperature_2m|wind_speed_10m)(?:_member(\d{2,3}))?$")
HOURLY_PARAMETER = ",".join(SERIES)
MIN_MEMBERS = 2


def parse_ensemble(payload: bytes, region_codes: list[str], zones: list[str], source: str) -> pd.DataFrame:
    data = json_payload(payload, source)
    provider_error(data, source)
    locations = [data] if isinstance(data, dict) else data
    if not isinstance(locations, list) or len(locations) != len(region_codes) or len(zones) != len(region_codes):
        count = len(locations) if isinstance(locations, list) else type(data).__name__
        raise FeedRejected(f"{source}: expected {len(region_codes)} locations in request order, got {count}")
    groups: dict[tuple, list] = {}  # locations sharing a time axis and members reduce together
    for index, (location, code, zone) in enumerate(zip(locations, region_codes, zones)):
        times, members = location_members(location, f"{source}[{index}] ({code})")
        groups.setdefault((id(times), len(members["temp"])), []).append((code, zone, times, members))
    frames = [group_days(group) for group in groups.values()]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def location_members(location: object, where: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The location's time axis, and per value a members x hours array (control first)."""
    provider_error(location, where)
    if not isinstance(location, dict) or not isinstance(location.get("hourly"), dict):
        raise FeedRejected(f"{where}: hourly: missing")
    hourly, units = location["hourly"], location.get("hourly_units") or {}
    times = valid_times(hourly.get("time"), units.get("time", "iso8601"), location.get("utc_offset_seconds", 0), where)
    series: dict[str, dict[int, np.ndarray]] = {name: {} for name in SERIES.values()}
    for key, raw in hourly.items():
        matched = MEMBER_SERIES.match(key)
        if matched:
            variable, number = matched.groups()
            series[SERIES[variable]][int(number or 0)] = member_values(raw, units.get(key), variable, key, len(times), where)
    numbers = sorted(series["temp"])
    if len(numbers) < MIN_MEMBERS:
        raise FeedRejected(f"{where}: hourly: {len(numbers)} temperature_2m member series, an ensemble needs "
                           f"at least {MIN_MEMBERS} (temperature_2m, temperature_2m_member01, …)")
    nothing = np.full(len(times), np.nan)  # a member without wind: no wind criterion is met by it
    return times, {name: np.stack([series[name].get(n, nothing) for n in numbers]) for name in SERIES.values()}


def member_values(raw, unit, variable: str, key: str, length: int, where: str) -> np.ndarray:
    """Converted and checked as the forecast's series are; an error names the member's own series."""
    try:
        return converted(raw, unit, variable, length, where)
    except FeedRejected as error:
        raise FeedRejected(str(error).replace(f".{variable}:", f".{key}:", 1)) from None


def group_days(group: list) -> pd.DataFrame:
    """Local-day values of every member of locations that share their time axis, one reduction for all."""
    codes = [code for code, *_ in group]
    times = group[0][2]
    members = group[0][3]["temp"].shape[0]
    rows = pd.Index(np.tile(codes, members), name="region_code")  # member-major: member m's locations together
    hourly = HourlyGrid(rows, pd.DatetimeIndex(times).tz_localize("UTC"),
                        {name: np.concatenate([np.stack([m[name][k] for *_, m in group]) for k in range(members)])
                         for name in SERIES.values()})
    zones = pd.Series([zone for _, zone, *_ in group], index=codes)
    daily = DailyGrid.of_hours(hourly, zones[~zones.index.duplicated()])
    if daily.empty:
        return pd.DataFrame(columns=list(ENSEMBLE_COLUMNS))
    days = len(daily.days)
    frame = pd.DataFrame({"region_code": np.repeat(rows.to_numpy(), days),
                          "member": np.repeat(np.repeat(np.arange(members), len(codes)), days),
                          "day": np.tile(daily.days.as_unit("us"), len(rows))}
                         | {name: daily.values[name].ravel() for name in ENSEMBLE_COLUMNS[3:]})
    return frame[frame["tmin"].notna()].reset_index(drop=True)
