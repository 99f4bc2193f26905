"""The forecast as dense arrays: regions (rows, an integer index) x time slots (columns, one axis).

A cycle turns its hourly table into an `HourlyGrid` once; local-day values (`DailyGrid`) are reduced
from it per time zone over whole column ranges, and every rule compares arrays. Values stay float64:
the official criteria are met at exact tenths (a ground minimum of -3.0 °C, a wind of 10.8 m/s), and
in float32 a tenth is not itself (float32(0.1) > 0.1), so a boundary case would flip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

DEFAULT_ZONE = "Asia/Shanghai"

# A day counts only when its samples cover at least this share of it: a daily minimum taken over
# the few hours at the edge of a forecast would invent drops that are not there.
MIN_DAY_COVERAGE = 0.75

HOURLY_VALUES = ("temp", "apparent_temp", "wind_speed", "ground_temp")
DAILY_VALUES = ("tmin", "tmax", "wind_max_ms")


def zones_of(codes: pd.Index, tz_by_code: pd.Series) -> np.ndarray:
    """Each region's time zone, in the order of `codes` (China Standard Time where unknown)."""
    return tz_by_code.reindex(codes).fillna(DEFAULT_ZONE).to_numpy()


def rows_by_zone(codes: pd.Index, tz_by_code: pd.Series) -> dict[str, np.ndarray]:
    zones = zones_of(codes, tz_by_code)
    return {zone: zones == zone for zone in set(zones)}


def in_zone(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows of one zone; all of them without a copy (most grids are China Standard Time throughout)."""
    return values if rows.all() else values[rows]


def cells(frame: pd.DataFrame, slot: str, slot_values: np.ndarray) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The sorted region codes, and each row's region index and slot index (into `slot_values`)."""
    rows, codes = pd.factorize(frame["region_code"], sort=True)
    return pd.Index(codes, name="region_code"), rows, np.searchsorted(slot_values, slot_values_of(frame[slot]))


def slot_values_of(column: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(column).as_unit("ns").asi8


def filled(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, values) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[rows, cols] = np.asarray(values, dtype=float)
    return out


@dataclass
class HourlyGrid:
    codes: pd.Index
    times: pd.DatetimeIndex  # UTC, ascending
    values: dict[str, np.ndarray] = field(default_factory=dict)  # name -> regions x times
    attrs: dict = field(default_factory=dict)  # what its producer says of it (a feed's notes), as DataFrame.attrs

    @classmethod
    def from_frame(cls, hourly: pd.DataFrame) -> HourlyGrid:
        """From the long forecast table (region_code, valid_time, one column per value)."""
        if hourly.empty:
            return cls(pd.Index([], name="region_code"), pd.DatetimeIndex([], tz="UTC"))
        times = np.unique(slot_values_of(hourly["valid_time"]))
        codes, rows, cols = cells(hourly, "valid_time", times)
        shape = (len(codes), len(times))
        return cls(codes, pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC"),
                   {name: filled(shape, rows, cols, hourly[name]) for name in HOURLY_VALUES
                    if name in hourly and hourly[name].notna().any()})

    @classmethod
    def joined(cls, pieces: list[HourlyGrid]) -> HourlyGrid:
        """One grid from a feed's pieces (one per request). The list is emptied and each piece let go
        once copied in: a caller that kept no other reference holds the values once, not twice (a
        national pull of townships is 430 MB of them). A region in two pieces: the later piece's
        values count where it has them, as in one table."""
        taken = [piece for piece in pieces if not piece.empty][::-1]
        pieces.clear()
        if len(taken) < 2:
            return taken[0] if taken else cls.from_frame(pd.DataFrame())
        codes = pd.Index(np.unique(np.concatenate([piece.codes.to_numpy() for piece in taken])), name="region_code")
        times = np.unique(np.concatenate([piece.starts_ns for piece in taken]))
        # np.empty: each row's memory is touched when its first piece is copied in, as the pieces go
        values = {name: np.empty((len(codes), len(times))) for name in dict.fromkeys(
            name for piece in taken for name in piece.values)}
        written = np.zeros(len(codes), dtype=bool)
        while taken:
            piece = taken.pop()
            rows, cols = codes.get_indexer(piece.codes), np.searchsorted(times, piece.starts_ns)
            first = rows[~written[rows]]
            for name, out in values.items():
                out[first] = np.nan
                if name in piece.values:
                    out[np.ix_(rows, cols)] = piece.values[name]
            written[rows] = True
        return cls(codes, pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC"), values)

    def shifted(self, delta: pd.Timedelta) -> HourlyGrid:
        """The same values `delta` later (a recorded scenario replayed on today's clock)."""
        return HourlyGrid(self.codes, self.times + delta, self.values, self.attrs)

    def cells(self) -> int:
        """How many (region, hour) cells have a temperature: the rows a long table of it would have."""
        return int(np.count_nonzero(~np.isnan(self.values["temp"]))) if "temp" in self.values else 0

    @property
    def empty(self) -> bool:
        return len(self.codes) == 0

    @cached_property
    def starts_ns(self) -> np.ndarray:
        return self.times.as_unit("ns").asi8

    def step_hours(self) -> float:
        """The usual sample step: one time axis, so its own differences say it."""
        steps = np.diff(self.starts_ns)
        return float(np.median(steps)) / 3.6e12 if len(steps) else 1.0

    def local_field(self, tz_by_code: pd.Series, name: str) -> np.ndarray:
        """Each region's local hour or month of each time (regions x times), one conversion per zone; in
        bytes, as a national grid of townships is 13 million cells."""
        out = np.empty((len(self.codes), len(self.times)), dtype=np.int8)
        for zone, rows in rows_by_zone(self.codes, tz_by_code).items():
            out[rows] = getattr(self.times.tz_convert(zone), name).to_numpy()
        return out

@dataclass
class DailyGrid:
    codes: pd.Index
    days: pd.DatetimeIndex  # local calendar days (naive midnights), every day from first to last
    values: dict[str, np.ndarray] = field(default_factory=dict)  # tmin, tmax, wind_max_ms: regions x days

    @classmethod
    def from_frame(cls, daily: pd.DataFrame) -> DailyGrid:
        """From daily rows (region_code, day, tmin, tmax, wind_max_ms), as providers that only give days send."""
        if daily.empty:
            return cls(pd.Index([], name="region_code"), pd.DatetimeIndex([]))
        days = pd.date_range(daily["day"].min(), daily["day"].max(), freq="D").as_unit("ns")
        codes, rows, cols = cells(daily, "day", days.asi8)
        shape = (len(codes), len(days))
        return cls(codes, days, {name: filled(shape, rows, cols, daily[name]) for name in DAILY_VALUES if name in daily})

    @classmethod
    def of_hours(cls, hourly: HourlyGrid, tz_by_code: pd.Series) -> DailyGrid:
        """Minimum and maximum temperature and strongest wind per local day, complete days only."""
        if hourly.empty or "temp" not in hourly.values:
            return cls.from_frame(pd.DataFrame())
        needed = MIN_DAY_COVERAGE * 24 / hourly.step_hours()
        by_zone = {zone: (rows, hourly.times.tz_convert(zone).tz_localize(None).normalize())
                   for zone, rows in rows_by_zone(hourly.codes, tz_by_code).items()}
        first = min(local[0] for _, local in by_zone.values())
        days = pd.date_range(first, max(local[-1] for _, local in by_zone.values()), freq="D").as_unit("ns")
        out = {name: np.full((len(hourly.codes), len(days)), np.nan) for name in DAILY_VALUES}
        temp, wind = hourly.values["temp"], hourly.values.get("wind_speed")
        for rows, local in by_zone.values():
            # the times ascend, so each local day is one run of columns: reduce each run at once
            bounds = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
            at = days.get_indexer(local[bounds])
            complete = np.add.reduceat(~np.isnan(in_zone(temp, rows)), bounds, axis=1) >= needed
            for name, source, reduce in (("tmin", temp, np.fmin), ("tmax", temp, np.fmax), ("wind_max_ms", wind, np.fmax)):
                if source is not None:
                    out[name][np.ix_(rows, at)] = np.where(complete, reduce.reduceat(in_zone(source, rows), bounds, axis=1),
                                                           np.nan)
        return cls(hourly.codes, days, out).trimmed()

    def trimmed(self) -> DailyGrid:
        """Without the days at either end that no region has complete (the edges of the forecast)."""
        seen = np.flatnonzero(~np.isnan(self.values["tmin"]).all(axis=0))
        if not len(seen):
            return DailyGrid.from_frame(pd.DataFrame())
        keep = slice(seen[0], seen[-1] + 1)
        return DailyGrid(self.codes, self.days[keep], {name: v[:, keep] for name, v in self.values.items()})

    @property
    def empty(self) -> bool:
        return len(self.codes) == 0

    def regions_with_days(self) -> int:
        return int((~np.isnan(self.values["tmin"])).any(axis=1).sum()) if not self.empty else 0

    def combined(self, other: DailyGrid) -> DailyGrid:
        """Both providers' regions on one calendar; where both have a day, this grid's value counts."""
        if other.empty:
            return self
        if self.empty:
            return other
        codes, days = self.codes.union(other.codes), self.days.union(other.days)
        days = pd.date_range(days[0], days[-1], freq="D").as_unit("ns")

        def spread(grid: DailyGrid, name: str) -> np.ndarray:
            out = np.full((len(codes), len(days)), np.nan)
            if name in grid.values:
                out[np.ix_(codes.get_indexer(grid.codes), days.get_indexer(grid.days))] = grid.values[name]
            return out
        return DailyGrid(codes, days, {name: np.where(np.isnan(mine := spread(self, name)), spread(other, name), mine)
                                       for name in DAILY_VALUES})

    def starts_ns(self, tz_by_code: pd.Series) -> np.ndarray:
        """UTC nanoseconds of each region's local midnight for each day (regions x days)."""
        starts = np.empty((len(self.codes), len(self.days)), dtype=np.int64)
        for zone, rows in rows_by_zone(self.codes, tz_by_code).items():
            starts[rows] = self.days.tz_localize(zone).tz_convert("UTC").as_unit("ns").asi8
        return starts

    def to_frame(self) -> pd.DataFrame:
        """Rows for the regions and days that have a minimum (region_code, day, tmin, tmax, wind_max_ms)."""
        frame = pd.DataFrame({"region_code": np.repeat(self.codes.to_numpy(), len(self.days)),
                              "day": np.tile(self.days.as_unit("us"), len(self.codes))})
        frame = frame.assign(**{name: self.values[name].ravel() for name in DAILY_VALUES if name in self.values})
        return frame[frame["tmin"].notna()].reset_index(drop=True) if "tmin" in frame else frame.iloc[:0]


def daily_grid(daily: DailyGrid | pd.DataFrame) -> DailyGrid:
    """Rules take a grid; daily rows (a provider's, a test's) become one."""
    return daily if isinstance(daily, DailyGrid) else DailyGrid.from_frame(daily)


def hourly_grid(hourly: HourlyGrid | pd.DataFrame) -> HourlyGrid:
    return hourly if isinstance(hourly, HourlyGrid) else HourlyGrid.from_frame(hourly)


def day_words(days: pd.DatetimeIndex) -> list[dict]:
    """What evidence says of each day, worked out once per day rather than once per assessment."""
    return [{"iso": d.date().isoformat(), "month": d.month, "day": d.day, "abbr": f"{d:%b}"} for d in days]


def hour_words(times: pd.DatetimeIndex, zone: str) -> tuple[list[str], list[str]]:
    """Each hour's local time as evidence writes it, in Chinese and in English."""
    local = times.tz_convert(zone)
    return list(local.strftime("%m月%d日%H时")), list(local.strftime("%d %b %H:%M"))
