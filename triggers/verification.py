"""Every daily trigger scored against what followed.

Each cycle keeps a `DayRecord`: for each region and local day it had, the level each daily rule reaches
on the deterministic forecast and, where an ensemble came, how many members meet each level. What
*happened* on a day is the level the same rules give the analysis values of a later cycle: the first
cycle for which the day is over (one of its past days, with the days before it known too).

The scores are those of forecast verification, for events (a region's day at or above a level):
- a hit is forecast and observed, a miss observed only, a false alarm forecast only;
  POD = hits / (hits + misses), FAR = false alarms / (hits + false alarms),
  CSI = hits / (hits + misses + false alarms);
- an event's warning lead time is the longest lead at which a cycle forecast it (hours from that
  cycle's clock to the start of the region's local day);
- a probability p (the share of members) scores (p - o)² against the outcome o (1 or 0), averaged as
  the Brier score; the reliability table bins the forecasts by p and gives how often each bin's events
  happened (a reliable 70 % happens 7 times in 10).
Forecasts are "deterministic" (the level reached) or the ensemble at each region's `prepare` and `act`
shares (`ensemble_prepare`, `ensemble_act`), so a rule's choice can be judged beside the other.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from triggers.ensemble import LEVELS_OF, EnsembleDaily
from triggers.grid import DailyGrid
from triggers.levels import COLOUR_LEVELS
from triggers.rules import Rules

HAZARDS = tuple(LEVELS_OF)
SOURCES = ("deterministic", "ensemble_prepare", "ensemble_act")
MAX_LEAD_DAYS = 15  # the longest forecast a feed gives (Open-Meteo: 16 days, today included)
PROVINCES = 100  # the first two digits of a region code
BINS = 10  # reliability: 0–10 %, 10–20 % … 90–100 %
UNKNOWN = -1  # no level: no value that day, or the rule is off for the region


@dataclass
class DayRecord:
    """What one cycle had for each region's local days (consecutive from `first_day`)."""

    as_of: datetime
    codes: np.ndarray  # region codes (str)
    first_day: np.datetime64  # a local calendar day
    start_h: np.ndarray  # per region: hours from `as_of` to its local midnight of `first_day` (< 0: past)
    levels: dict[str, np.ndarray]  # hazard -> regions x days: level index (0 none, 1 blue … 4 red; -1 unknown)
    members: np.ndarray  # regions x days: ensemble members with the day (0: no ensemble)
    meeting: dict[str, np.ndarray] = field(default_factory=dict)  # hazard -> levels x regions x days
    stage_pct: dict[str, np.ndarray] = field(default_factory=dict)  # hazard -> regions x (prepare, act) min_pct

    @property
    def lead_days(self) -> np.ndarray:
        """Regions x days: each day's distance from the region's local day of `as_of` (0 today, -1 yesterday)."""
        today = np.floor(-self.start_h / 24).astype(int)
        return np.arange(self.members.shape[1])[None, :] - today[:, None]

    def to_bytes(self) -> bytes:
        arrays = {"as_of": np.array([pd.Timestamp(self.as_of).value]), "codes": self.codes.astype(str),
                  "first_day": np.array([self.first_day], dtype="datetime64[D]"), "start_h": self.start_h,
                  "members": self.members}
        for hazard in self.levels:
            arrays[f"levels.{hazard}"] = self.levels[hazard]
        for hazard in self.meeting:
            arrays[f"meeting.{hazard}"], arrays[f"stage_pct.{hazard}"] = self.meeting[hazard], self.stage_pct[hazard]
        out = io.BytesIO()
        np.savez_compressed(out, **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> DayRecord:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            named = {key: arrays[key] for key in arrays.files}

        def of(kind: str) -> dict[str, np.ndarray]:
            return {key.split(".", 1)[1]: value for key, value in named.items() if key.startswith(kind + ".")}
        return cls(pd.Timestamp(int(named["as_of"][0]), tz=timezone.utc).to_pydatetime(), named["codes"],
                   named["first_day"][0], named["start_h"], of("levels"), named["members"], of("meeting"),
                   of("stage_pct"))


def record_of(daily: DailyGrid, ensemble: EnsembleDaily, thresholds: pd.DataFrame, tz_by_code: pd.Series,
              rules: Rules, now: datetime, normals: pd.Series | None = None) -> DayRecord | None:
    """The levels of every daily rule on each region's days, deterministic and per member (None: no days)."""
    grids = [g for g in (daily, ensemble) if not g.empty]
    if not grids:
        return None
    codes = pd.Index(sorted(set().union(*(g.codes for g in grids))), name="region_code")
    days = pd.date_range(min(g.days[0] for g in grids), max(g.days[-1] for g in grids), freq="D").as_unit("ns")
    det = DailyGrid(codes, days, {name: placed(v, daily.codes, daily.days, codes, days) for name, v in daily.values.items()}) \
        if not daily.empty else DailyGrid(codes, days, {"tmin": np.full((len(codes), len(days)), np.nan)})
    thr = thresholds.reindex(codes)
    unknown = np.isnan(det.values["tmin"])
    levels, meeting, stage_pct = {}, {}, {}
    members = np.zeros((len(codes), len(days)), dtype=np.uint16)
    if not ensemble.empty:
        on_grid = EnsembleDaily(codes, days, {name: placed(v, ensemble.codes, ensemble.days, codes, days)
                                              for name, v in ensemble.values.items()})
        members, stacked = on_grid.present().astype(np.uint16), on_grid.stacked()
    for hazard, levels_of in LEVELS_OF.items():
        off = ~thr[f"{hazard}.enabled"].fillna(False).to_numpy(dtype=bool)
        matrix = levels_of(det, thresholds, rules, normals) if not daily.empty else np.zeros(unknown.shape, dtype=int)
        levels[hazard] = np.where(unknown | off[:, None], UNKNOWN, matrix).astype(np.int8)
        if not ensemble.empty:
            per_member = levels_of(stacked, thresholds, rules, normals).reshape(-1, len(codes), len(days))
            meeting[hazard] = np.stack([(per_member >= index).sum(axis=0) for index in range(1, len(COLOUR_LEVELS) + 1)]
                                       ).astype(np.uint16)
            stage_pct[hazard] = thr[[f"{hazard}.ensemble.prepare.min_pct", f"{hazard}.ensemble.act.min_pct"]] \
                .to_numpy(dtype=np.float32)
    start_h = (DailyGrid(codes, days[:1]).starts_ns(tz_by_code)[:, 0] - pd.Timestamp(now).value) / 3.6e12
    return DayRecord(now, codes.to_numpy(dtype=str), np.datetime64(days[0].date(), "D"), start_h.astype(np.float32),
                     levels, members, meeting, stage_pct)


def placed(values: np.ndarray, codes: pd.Index, days: pd.DatetimeIndex, on_codes: pd.Index,
           on_days: pd.DatetimeIndex) -> np.ndarray:
    """`values` (… x codes x days) on a larger calendar of regions and days, NaN where it had none."""
    out = np.full(values.shape[:-2] + (len(on_codes), len(on_days)), np.nan)
    out[..., on_codes.get_indexer(codes)[:, None], on_days.get_indexer(days)[None, :]] = values
    return out


@dataclass
class Observed:
    """What happened: per hazard, the sorted keys of (region, day) cells and each one's level."""

    code_index: dict[str, int]
    keys: dict[str, np.ndarray]
    levels: dict[str, np.ndarray]

    def at(self, hazard: str, keys: np.ndarray) -> np.ndarray:
        """The observed level of each key (UNKNOWN where no later cycle had it)."""
        known, levels = self.keys[hazard], self.levels[hazard]
        at = np.clip(np.searchsorted(known, keys), 0, max(len(known) - 1, 0))
        found = (known[at] == keys) if len(known) else np.zeros(len(keys), dtype=bool)
        return np.where(found, levels[at] if len(known) else UNKNOWN, UNKNOWN)


def cell_keys(record: DayRecord, code_index: dict[str, int]) -> np.ndarray:
    """Regions x days: one integer per (region, day), the same in every record."""
    rows = np.array([code_index[c] for c in record.codes], dtype=np.int64)
    days = record.first_day.astype("datetime64[D]").astype(np.int64) + np.arange(record.members.shape[1])
    return rows[:, None] * 1_000_000 + days[None, :]


def observed(records: list[DayRecord]) -> Observed:
    """Each (region, day)'s level from the first record, by clock, for which the day was over."""
    code_index = {c: i for i, c in enumerate(sorted(set().union(*(r.codes.tolist() for r in records))))}
    keys, levels = {}, {}
    ordered = sorted(records, key=lambda r: r.as_of)
    for hazard in HAZARDS:
        found_keys, found_levels = [], []
        for record in ordered:
            past = (record.lead_days <= -1) & (record.levels[hazard] != UNKNOWN)
            found_keys.append(cell_keys(record, code_index)[past])
            found_levels.append(record.levels[hazard][past])
        all_keys = np.concatenate(found_keys) if found_keys else np.zeros(0, dtype=np.int64)
        unique, first = np.unique(all_keys, return_index=True)  # the first occurrence: the earliest record
        keys[hazard] = unique
        levels[hazard] = np.concatenate(found_levels)[first] if len(unique) else np.zeros(0, dtype=np.int8)
    return Observed(code_index, keys, levels)


@dataclass
class Scores:
    """Sums over (hazard, level, lead day, province, month of the day), per source where it applies."""

    hits: np.ndarray  # sources x hazards x levels x CELL_BINS
    misses: np.ndarray
    false_alarms: np.ndarray
    squared_error: np.ndarray  # hazards x levels x CELL_BINS: the Brier sums
    probabilities: np.ndarray  # how many probability forecasts, same axes
    reliability: np.ndarray  # hazards x levels x BINS x (forecasts, sum of p, events)
    lead_h: dict = field(default_factory=dict)  # (source, hazard, level) -> (event keys, longest lead in h)
    truth: Observed | None = None
    cycles: int = 0


CELL_AXES = (MAX_LEAD_DAYS + 1, PROVINCES, 13)  # lead day, province, month (1–12)
CELL_BINS = int(np.prod(CELL_AXES))


def score(records: list[DayRecord]) -> Scores:
    truth = observed(records)
    counts = (len(SOURCES), len(HAZARDS), len(COLOUR_LEVELS), CELL_BINS)
    s = Scores(np.zeros(counts, dtype=np.int64), np.zeros(counts, dtype=np.int64), np.zeros(counts, dtype=np.int64),
               np.zeros(counts[1:]), np.zeros(counts[1:], dtype=np.int64), np.zeros((len(HAZARDS), len(COLOUR_LEVELS), BINS, 3)),
               truth=truth, cycles=len(records))
    for record in records:
        cells = record_cells(record, truth)
        for h, hazard in enumerate(HAZARDS):
            forecast = record.levels[hazard][cells.where]
            seen = truth.at(hazard, cells.keys)
            known = (seen != UNKNOWN) & (forecast != UNKNOWN)
            for lv in range(len(COLOUR_LEVELS)):
                happened = known & (seen >= lv + 1)
                for src, said, judged in forecast_events(record, hazard, cells, forecast, lv):
                    said, was = said & known & judged, happened & judged
                    for total, chosen in ((s.hits, said & was), (s.misses, ~said & was), (s.false_alarms, said & ~was)):
                        total[src, h, lv] += np.bincount(cells.bin[chosen], minlength=CELL_BINS)
                    keep_longest(s.lead_h, (SOURCES[src], hazard, lv), cells.keys[said & was], cells.lead_h[said & was])
                add_probabilities(s, record, hazard, h, lv, cells, happened, known)
    return s


@dataclass
class Cells:
    """The days of one record a forecast can be judged on (flattened)."""

    where: tuple[np.ndarray, np.ndarray]
    keys: np.ndarray
    bin: np.ndarray  # the (lead day, province, month) cell
    lead_h: np.ndarray  # from the record's clock to the start of the region's local day (0 if begun)


def record_cells(record: DayRecord, truth: Observed) -> Cells:
    lead_days = record.lead_days
    rows, cols = np.nonzero((lead_days >= 0) & (lead_days <= MAX_LEAD_DAYS))
    months = (record.first_day.astype("datetime64[D]") + cols).astype("datetime64[M]").astype(int) % 12 + 1
    provinces = np.array([int(c[:2]) for c in record.codes], dtype=int)[rows]
    return Cells((rows, cols), cell_keys(record, truth.code_index)[rows, cols],
                 np.ravel_multi_index((lead_days[rows, cols], provinces, months), CELL_AXES),
                 np.maximum(record.start_h[rows].astype(float) + 24.0 * cols, 0))  # warned the same day: 0 h


def forecast_events(record: DayRecord, hazard: str, cells: Cells, forecast: np.ndarray, lv: int):
    """Per source: its index, whether it forecast the level on each cell, and the cells it can be judged on
    (the ensemble's: those it had members for)."""
    yield 0, forecast >= lv + 1, np.ones(len(forecast), dtype=bool)
    if hazard in record.meeting:
        members = record.members[cells.where].astype(float)
        meeting = record.meeting[hazard][lv][cells.where].astype(float)
        pct = record.stage_pct[hazard][cells.where[0]].astype(float)
        for stage in range(2):
            yield 1 + stage, meeting * 100 >= pct[:, stage] * members, members > 0


def add_probabilities(s: Scores, record: DayRecord, hazard: str, h: int, lv: int, cells: Cells,
                      was: np.ndarray, known: np.ndarray) -> None:
    if hazard not in record.meeting:
        return
    members = record.members[cells.where]
    scored = known & (members > 0)
    meeting, members = record.meeting[hazard][lv][cells.where][scored].astype(int), members[scored].astype(int)
    p, o = meeting / members, was[scored].astype(float)
    s.squared_error[h, lv] += np.bincount(cells.bin[scored], weights=(p - o) ** 2, minlength=CELL_BINS)
    s.probabilities[h, lv] += np.bincount(cells.bin[scored], minlength=CELL_BINS)
    bins = np.minimum(meeting * BINS // members, BINS - 1)  # in whole numbers: 7 of 10 is in 70–80 %, exactly
    for column, values in enumerate((np.ones_like(p), p, o)):
        s.reliability[h, lv, :, column] += np.bincount(bins, weights=values, minlength=BINS)


def keep_longest(longest: dict, key: tuple, keys: np.ndarray, leads: np.ndarray) -> None:
    if not len(keys):
        return
    old_keys, old_leads = longest.get(key, (np.zeros(0, dtype=np.int64), np.zeros(0)))
    frame = pd.DataFrame({"key": np.concatenate([old_keys, keys]), "lead_h": np.concatenate([old_leads, leads])})
    best = frame.groupby("key")["lead_h"].max()
    longest[key] = (best.index.to_numpy(), best.to_numpy())


GROUPS = ("source", "hazard", "level", "lead_d", "province", "month")


def province_code(number: int) -> str:
    return f"{number:02d}0000"


def contingency_table(s: Scores, by: tuple[str, ...] = ("source", "hazard", "level", "lead_d"),
                      province: str | None = None) -> pd.DataFrame:
    """Hits, misses and false alarms added up over the groups `by`, with POD, FAR and CSI."""
    src, h, lv, cell = np.nonzero(s.hits + s.misses + s.false_alarms)
    frame = cell_frame(cell).assign(source=np.array(SOURCES)[src], hazard=np.array(HAZARDS)[h],
                                    level=np.array(COLOUR_LEVELS)[lv], hits=s.hits[src, h, lv, cell],
                                    misses=s.misses[src, h, lv, cell], false_alarms=s.false_alarms[src, h, lv, cell])
    frame = in_province(frame, province).groupby(list(by), sort=False)[["hits", "misses", "false_alarms"]].sum().reset_index()
    hits, misses, false_alarms = (frame[c].to_numpy(dtype=float) for c in ("hits", "misses", "false_alarms"))
    return ordered(frame.assign(pod=ratio(hits, hits + misses), far=ratio(false_alarms, hits + false_alarms),
                                csi=ratio(hits, hits + misses + false_alarms)), by)


def brier_table(s: Scores, by: tuple[str, ...] = ("hazard", "level", "lead_d"), province: str | None = None) -> pd.DataFrame:
    """The Brier score of the members' share for each level (0 perfect, 1 always wrong), over the groups."""
    h, lv, cell = np.nonzero(s.probabilities)
    frame = cell_frame(cell).assign(hazard=np.array(HAZARDS)[h], level=np.array(COLOUR_LEVELS)[lv],
                                    forecasts=s.probabilities[h, lv, cell], squared_error=s.squared_error[h, lv, cell])
    frame = in_province(frame, province).groupby(list(by), sort=False)[["forecasts", "squared_error"]].sum().reset_index()
    frame["brier"] = (frame.pop("squared_error") / frame["forecasts"]).round(4)
    return ordered(frame, by)


def reliability_table(s: Scores) -> pd.DataFrame:
    """Per hazard, level and bin of forecast probability: how many, their mean, and how often it happened."""
    h, lv, b = np.nonzero(s.reliability[..., 0])
    counts, total_p, events = (s.reliability[h, lv, b, column] for column in range(3))
    return pd.DataFrame({"hazard": np.array(HAZARDS)[h], "level": np.array(COLOUR_LEVELS)[lv],
                         "bin_from_pct": b * (100 // BINS), "bin_to_pct": (b + 1) * (100 // BINS),
                         "forecasts": counts.astype(int), "mean_probability": (total_p / counts).round(4),
                         "observed_frequency": (events / counts).round(4)})


def lead_table(s: Scores, by: tuple[str, ...] = ("source", "hazard", "level"), province: str | None = None) -> pd.DataFrame:
    """Per group: the events warned of at least once, and the mean of each one's longest warning lead (h)."""
    codes = np.array(sorted(s.truth.code_index, key=s.truth.code_index.get)) if s.truth else np.array([])
    parts = []
    for (source, hazard, lv), (keys, leads) in s.lead_h.items():
        days = (keys % 1_000_000).astype("datetime64[D]")
        parts.append(pd.DataFrame({"source": source, "hazard": hazard, "level": COLOUR_LEVELS[lv],
                                   "province": [province_code(int(c[:2])) for c in codes[keys // 1_000_000]],
                                   "month": days.astype("datetime64[M]").astype(int) % 12 + 1, "lead_h": leads}))
    if not parts:
        return pd.DataFrame(columns=[*by, "events_warned", "mean_lead_h"])
    frame = in_province(pd.concat(parts, ignore_index=True), province)
    grouped = frame.groupby(list(by), sort=False)["lead_h"].agg(["count", "mean"]).reset_index()
    return ordered(grouped.rename(columns={"count": "events_warned", "mean": "mean_lead_h"}).round({"mean_lead_h": 1}), by)


def cell_frame(cell: np.ndarray) -> pd.DataFrame:
    lead, province, month = np.unravel_index(cell, CELL_AXES)
    return pd.DataFrame({"lead_d": lead, "province": [province_code(p) for p in province], "month": month})


def in_province(frame: pd.DataFrame, province: str | None) -> pd.DataFrame:
    return frame if province is None else frame[frame["province"] == province_code(int(province[:2]))]


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Rounded, and NaN where nothing was counted (a score of no events is not 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.round(np.where(denominator > 0, numerator / denominator, np.nan), 4)


def ordered(frame: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """Rows in a reader's order: sources, hazards and levels as listed, numbers ascending."""
    order = {"source": SOURCES, "hazard": HAZARDS, "level": COLOUR_LEVELS}
    keys = {name: frame[name].map({v: i for i, v in enumerate(order[name])}) if name in order else frame[name]
            for name in by}
    return frame.iloc[np.lexsort([keys[name].to_numpy() for name in reversed(by)])].reset_index(drop=True) if len(frame) else frame
