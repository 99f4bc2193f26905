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

import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

import numpy as np
import pandas as pd

from triggers.ensemble import LEVELS_OF, EnsembleDaily
from triggers.grid import DailyGrid
from triggers.levels import COLOUR_LEVELS
from triggers.rules import Rules

HAZARDS = tuple(LEVELS_OF)
SOURCES = ("deterministic", "ensemble_prepare", "ensemble_act")
MAX_LEAD_DAYS = 15  # the longest forecast a feed gives (Open-Meteo: 16 days, today included)
BINS = 10  # reliability: 0–10 %, 10–20 % … 90–100 %
RECORD_FORMAT = 1  # how a record is stored (DayRecord.to_bytes)
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
    stage_h: dict[str, np.ndarray] = field(default_factory=dict)  # hazard -> regions x (prepare, act) within_h

    @property
    def lead_days(self) -> np.ndarray:
        """Regions x days: each day's distance from the region's local day of `as_of` (0 today, -1 yesterday)."""
        today = np.floor(-self.start_h / 24).astype(int)
        return np.arange(self.members.shape[1])[None, :] - today[:, None]

    def to_bytes(self) -> bytes:
        """One zlib stream of every array, after a JSON line naming each (dtype, shape): read back in one
        pass with no copy per array (a winter of hourly cycles is thousands of records)."""
        arrays = {"codes": self.codes.astype("S12"), "start_h": self.start_h, "members": self.members}
        arrays |= {f"levels.{hazard}": value for hazard, value in self.levels.items()}
        arrays |= {f"meeting.{hazard}": value for hazard, value in self.meeting.items()}
        arrays |= {f"stage_pct.{hazard}": value for hazard, value in self.stage_pct.items()}
        arrays |= {f"stage_h.{hazard}": value for hazard, value in self.stage_h.items()}
        head = {"format": RECORD_FORMAT, "as_of": pd.Timestamp(self.as_of).value, "first_day": str(self.first_day),
                "arrays": [[name, value.dtype.str, list(value.shape)] for name, value in arrays.items()]}
        body = b"".join(np.ascontiguousarray(value).tobytes() for value in arrays.values())
        return json.dumps(head).encode() + b"\n" + zlib.compress(body, 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> DayRecord:
        line, _, packed = data.partition(b"\n")
        head, body, at, named = json.loads(line), zlib.decompress(packed), 0, {}
        if head.get("format") != RECORD_FORMAT:
            raise ValueError(f"a day record of format {head.get('format')!r}, not {RECORD_FORMAT}")
        for name, dtype, shape in head["arrays"]:
            size = int(np.prod(shape)) * np.dtype(dtype).itemsize
            named[name] = np.frombuffer(body, dtype, count=int(np.prod(shape)), offset=at).reshape(shape)
            at += size

        def of(kind: str) -> dict[str, np.ndarray]:
            return {key.split(".", 1)[1]: value for key, value in named.items() if key.startswith(kind + ".")}
        return cls(pd.Timestamp(head["as_of"], tz=timezone.utc).to_pydatetime(), named["codes"].astype(str),
                   np.datetime64(head["first_day"], "D"), named["start_h"], of("levels"), named["members"],
                   of("meeting"), of("stage_pct"), of("stage_h"))


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
    levels, meeting, stage_pct, stage_h = {}, {}, {}, {}
    members = np.zeros((len(codes), len(days)), dtype=np.uint8)
    if not ensemble.empty:
        on_grid = EnsembleDaily(codes, days, {name: placed(v, ensemble.codes, ensemble.days, codes, days)
                                              for name, v in ensemble.values.items()})
        present, stacked = on_grid.present(), on_grid.stacked()
        members = present.astype(np.min_scalar_type(int(present.max())))  # (51 members: a byte each)
    for hazard, levels_of in LEVELS_OF.items():
        off = ~thr[f"{hazard}.enabled"].fillna(False).to_numpy(dtype=bool)
        matrix = levels_of(det, thresholds, rules, normals) if not daily.empty else np.zeros(unknown.shape, dtype=int)
        levels[hazard] = np.where(unknown | off[:, None], UNKNOWN, matrix).astype(np.int8)
        if not ensemble.empty:
            per_member = levels_of(stacked, thresholds, rules, normals).reshape(-1, len(codes), len(days))
            meeting[hazard] = np.stack([np.where(off[:, None], 0, (per_member >= index).sum(axis=0))  # (off: none)
                                        for index in range(1, len(COLOUR_LEVELS) + 1)]).astype(members.dtype)
            stage_pct[hazard], stage_h[hazard] = (
                thr[[f"{hazard}.ensemble.{stage}.{key}" for stage in ("prepare", "act")]].to_numpy(dtype=np.float32)
                for key in ("min_pct", "within_h"))
    start_h = (DailyGrid(codes, days[:1]).starts_ns(tz_by_code)[:, 0] - pd.Timestamp(now).value) / 3.6e12
    return DayRecord(now, codes.to_numpy(dtype=str), np.datetime64(days[0].date(), "D"), start_h.astype(np.float32),
                     levels, members, meeting, stage_pct, stage_h)


def placed(values: np.ndarray, codes: pd.Index, days: pd.DatetimeIndex, on_codes: pd.Index,
           on_days: pd.DatetimeIndex) -> np.ndarray:
    """`values` (… x codes x days) on a larger calendar of regions and days, NaN where it had none."""
    out = np.full(values.shape[:-2] + (len(on_codes), len(on_days)), np.nan)
    out[..., on_codes.get_indexer(codes)[:, None], on_days.get_indexer(days)[None, :]] = values
    return out


@dataclass
class Observed:
    """What happened: per hazard, the sorted keys of (region, day) cells and each one's level."""

    codes: np.ndarray  # every record's region codes, sorted: a key's region is its index here
    keys: dict[str, np.ndarray]
    levels: dict[str, np.ndarray]

    @cached_property
    def provinces(self) -> np.ndarray:
        """The provinces (first two digits) of the codes, sorted: the scores' province axis."""
        return np.unique(self.codes.astype("<U2").astype(int))

    @cached_property
    def cell_axes(self) -> tuple[int, int, int]:
        """The axes of a scored cell: lead day, province, month (only the provinces there are)."""
        return MAX_LEAD_DAYS + 1, len(self.provinces), 12

    @property
    def cell_bins(self) -> int:
        return int(np.prod(self.cell_axes))

    def at(self, hazard: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The observed level of each key (UNKNOWN where no later cycle had it), and its index in `keys`."""
        known, levels = self.keys[hazard], self.levels[hazard]
        if not len(known):
            return np.full(len(keys), UNKNOWN), np.zeros(len(keys), dtype=int)
        at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        return np.where(known[at] == keys, levels[at], UNKNOWN), at


def cell_keys(record: DayRecord, codes: np.ndarray) -> np.ndarray:
    """Regions x days: one integer per (region, day), the same in every record."""
    rows = np.searchsorted(codes, record.codes).astype(np.int64)
    days = record.first_day.astype("datetime64[D]").astype(np.int64) + np.arange(record.members.shape[1])
    return rows[:, None] * 1_000_000 + days[None, :]


def observed(records: list[DayRecord], observations: list[DayRecord] = ()) -> Observed:
    """Each (region, day)'s level from an observed series where one has it (`observations` in the order
    they should count, the first winning), else from the first record, by clock, for which the day was over."""
    codes = np.unique(np.concatenate([r.codes.astype(str) for r in [*records, *observations]]))
    found = {hazard: ([], []) for hazard in HAZARDS}  # keys and levels of the days over, record by record
    for record in [*observations, *sorted(records, key=lambda r: r.as_of)]:
        keys, over = cell_keys(record, codes), record.lead_days <= -1
        for hazard, (found_keys, found_levels) in found.items():
            past = over & (record.levels[hazard] != UNKNOWN)
            found_keys.append(keys[past])
            found_levels.append(record.levels[hazard][past])
    keys, levels = {}, {}
    for hazard, (found_keys, found_levels) in found.items():
        all_keys = np.concatenate(found_keys) if found_keys else np.zeros(0, dtype=np.int64)
        unique, first = np.unique(all_keys, return_index=True)  # the first occurrence: the one preferred
        keys[hazard] = unique
        levels[hazard] = np.concatenate(found_levels)[first] if len(unique) else np.zeros(0, dtype=np.int8)
    return Observed(codes, keys, levels)


@dataclass
class Scores:
    """Sums over (hazard, level, lead day, province, month of the day), per source where it applies."""

    hits: np.ndarray  # sources x hazards x levels x cells (Observed.cell_axes, flattened)
    misses: np.ndarray
    false_alarms: np.ndarray
    squared_error: np.ndarray  # hazards x levels x cells: the Brier sums
    probabilities: np.ndarray  # how many probability forecasts, same axes
    reliability: np.ndarray  # hazards x levels x BINS x (forecasts, sum of p, events)
    lead_h: dict  # (source, hazard, level) -> per observed cell, the longest lead (h) it was forecast at
    truth: Observed
    cycles: int


GRADES = len(COLOUR_LEVELS) + 1  # a level index: 0 none, 1 blue … 4 red
BATCH = 128  # records whose cells are added up in one pass


class Sums:
    """Weights added up per index, gathered over a batch of records and summed in one pass."""

    def __init__(self, size: int, weighted: bool = False):
        self.total = np.zeros(size) if weighted else np.zeros(size, dtype=np.int64)
        self.indexes, self.weights = [], []

    def add(self, index: np.ndarray, weights: np.ndarray | None = None) -> None:
        self.indexes.append(index.ravel().astype(np.int32 if len(self.total) < 2**31 else np.int64))
        if weights is not None:
            self.weights.append(weights.ravel())

    def flush(self) -> np.ndarray:
        if self.indexes:
            weights = np.concatenate(self.weights) if self.weights else None
            self.total += np.bincount(np.concatenate(self.indexes), weights, len(self.total)).astype(self.total.dtype)
            self.indexes, self.weights = [], []
        return self.total


def score(records: list[DayRecord], observations: list[DayRecord] = ()) -> Scores:
    """`observations`: records of an observed series (what happened), preferred to later cycles' past days."""
    truth = observed(records, observations)
    hazards, levels, bins = len(HAZARDS), len(COLOUR_LEVELS), truth.cell_bins
    joint = Sums(len(SOURCES) * hazards * GRADES * GRADES * bins)  # cells by (forecast, observed) level
    sums = {"brier": Sums(hazards * levels * bins, weighted=True), "judged": Sums(hazards * bins),
            "reliability": Sums(hazards * levels * BINS * 3, weighted=True)}
    lead_h = {(source, hazard, lv): np.full(len(truth.keys[hazard]), np.nan) for source in SOURCES
              for hazard in HAZARDS for lv in range(levels)}
    for n, record in enumerate(records):
        cells = record_cells(record, truth)
        for h, hazard in enumerate(HAZARDS):
            forecast = record.levels[hazard][cells.where].astype(int)
            seen, index = truth.at(hazard, cells.keys)
            known = (seen != UNKNOWN) & (forecast != UNKNOWN)
            for src, said, judged in forecast_levels(record, hazard, cells, forecast):
                use = known & judged & ((said > 0) | (seen > 0))  # (neither: nothing to count)
                joint.add((((src * hazards + h) * GRADES + said[use]) * GRADES + seen[use]) * bins + cells.bin[use])
                keep_longest(lead_h, SOURCES[src], hazard, np.where(use, np.minimum(said, seen), 0), index, cells.lead_h)
            if hazard in record.meeting:
                add_probabilities(sums, record, hazard, h, cells, seen, known, bins)
        if n % BATCH == BATCH - 1:
            [sums_of.flush() for sums_of in (joint, *sums.values())]
    return scores_of(joint.flush(), {name: sums_of.flush() for name, sums_of in sums.items()}, lead_h, truth, len(records))


def scores_of(joint: np.ndarray, sums: dict[str, np.ndarray], lead_h: dict, truth: Observed, cycles: int) -> Scores:
    """Hits, misses and false alarms of each level from the joint counts of forecast and observed levels."""
    bins = truth.cell_bins
    counts = joint.reshape(len(SOURCES), len(HAZARDS), GRADES, GRADES, bins)
    at_least = counts[:, :, ::-1, ::-1].cumsum(2).cumsum(3)[:, :, ::-1, ::-1]  # [f, o]: forecast >= f, observed >= o
    up = range(1, GRADES)
    hits = np.stack([at_least[:, :, lv, lv] for lv in up], axis=2)
    said = np.stack([at_least[:, :, lv, 0] for lv in up], axis=2)
    happened = np.stack([at_least[:, :, 0, lv] for lv in up], axis=2)
    judged = sums["judged"].reshape(len(HAZARDS), 1, bins)
    return Scores(hits, happened - hits, said - hits,
                  sums["brier"].reshape(len(HAZARDS), len(COLOUR_LEVELS), bins),
                  np.repeat(judged, len(COLOUR_LEVELS), axis=1),
                  sums["reliability"].reshape(len(HAZARDS), len(COLOUR_LEVELS), BINS, 3), lead_h, truth, cycles)


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
    months = (record.first_day.astype("datetime64[D]") + cols).astype("datetime64[M]").astype(int) % 12
    provinces = np.searchsorted(truth.provinces, record.codes.astype("<U2").astype(int))[rows]
    return Cells((rows, cols), cell_keys(record, truth.codes)[rows, cols],
                 np.ravel_multi_index((lead_days[rows, cols], provinces, months), truth.cell_axes),
                 np.maximum(record.start_h[rows].astype(float) + 24.0 * cols, 0))  # warned the same day: 0 h


def forecast_levels(record: DayRecord, hazard: str, cells: Cells, forecast: np.ndarray):
    """Per source: its index, the level it forecast on each cell, and the cells it can be judged on (the
    ensemble's: those it had members for). The ensemble forecasts the highest level whose members'
    share reaches the stage's (a share of a level counts the members at or above it, so it only falls)."""
    yield 0, forecast, np.ones(len(forecast), dtype=bool)
    if hazard in record.meeting:
        members = record.members[cells.where].astype(float)
        meeting = record.meeting[hazard][:, cells.where[0], cells.where[1]].astype(float)
        pct = record.stage_pct[hazard][cells.where[0]].astype(float)
        for stage in range(2):
            reached = (meeting * 100 >= pct[:, stage] * members) & (members > 0)
            yield 1 + stage, reached.sum(axis=0), members > 0


def add_probabilities(sums: dict[str, Sums], record: DayRecord, hazard: str, h: int, cells: Cells,
                      seen: np.ndarray, known: np.ndarray, cell_bins: int) -> None:
    """The share of members meeting each level (p) against whether it happened (o): Brier and reliability."""
    members = record.members[cells.where].astype(int)
    scored = known & (members > 0)
    meeting = record.meeting[hazard][:, cells.where[0][scored], cells.where[1][scored]].astype(int)
    members, bins = members[scored], cells.bin[scored]
    p = meeting / members
    o = (seen[scored][None, :] >= np.arange(1, len(COLOUR_LEVELS) + 1)[:, None]).astype(float)
    levels = np.arange(len(COLOUR_LEVELS))[:, None]
    sums["judged"].add(h * cell_bins + bins)
    wrong = (p > 0) | (o > 0)  # (a zero forecast of nothing adds nothing to the Brier sum)
    sums["brier"].add(((h * len(COLOUR_LEVELS) + levels) * cell_bins + bins[None, :])[wrong], ((p - o) ** 2)[wrong])
    share_bin = np.minimum(meeting * BINS // members, BINS - 1)  # in whole numbers: 7 of 10 is in 70–80 %, exactly
    at = ((h * len(COLOUR_LEVELS) + levels) * BINS + share_bin) * 3
    reliability = sums["reliability"]  # (small: added up here, not gathered)
    for column, values in enumerate((np.ones_like(p), p, o)):
        reliability.total += np.bincount((at + column).ravel(), values.ravel(), len(reliability.total))


def keep_longest(lead_h: dict, source: str, hazard: str, hit_level: np.ndarray, index: np.ndarray,
                 leads: np.ndarray) -> None:
    """Each hit cell's longest lead so far, at every level up to the one it hit (one cell once a record)."""
    for lv in range(len(COLOUR_LEVELS)):
        hit = hit_level >= lv + 1
        if not hit.any():
            break
        longest = lead_h[source, hazard, lv]
        longest[index[hit]] = np.fmax(longest[index[hit]], leads[hit])


def province_code(number: int) -> str:
    return f"{number:02d}0000"


def contingency_table(s: Scores, by: tuple[str, ...] = ("source", "hazard", "level", "lead_d"),
                      province: str | None = None) -> pd.DataFrame:
    """Hits, misses and false alarms added up over the groups `by`, with POD, FAR and CSI."""
    src, h, lv, cell = np.nonzero(s.hits + s.misses + s.false_alarms)
    frame = cell_frame(s.truth, cell).assign(source=np.array(SOURCES)[src], hazard=np.array(HAZARDS)[h],
                                             level=np.array(COLOUR_LEVELS)[lv], hits=s.hits[src, h, lv, cell],
                                             misses=s.misses[src, h, lv, cell],
                                             false_alarms=s.false_alarms[src, h, lv, cell])
    frame = in_province(frame, province).groupby(list(by), sort=False)[["hits", "misses", "false_alarms"]].sum().reset_index()
    hits, misses, false_alarms = (frame[c].to_numpy(dtype=float) for c in ("hits", "misses", "false_alarms"))
    return ordered(frame.assign(pod=ratio(hits, hits + misses), far=ratio(false_alarms, hits + false_alarms),
                                csi=ratio(hits, hits + misses + false_alarms)), by)


def brier_table(s: Scores, by: tuple[str, ...] = ("hazard", "level", "lead_d"), province: str | None = None) -> pd.DataFrame:
    """The Brier score of the members' share for each level (0 perfect, 1 always wrong), over the groups."""
    h, lv, cell = np.nonzero(s.probabilities)
    frame = cell_frame(s.truth, cell).assign(hazard=np.array(HAZARDS)[h], level=np.array(COLOUR_LEVELS)[lv],
                                             forecasts=s.probabilities[h, lv, cell],
                                             squared_error=s.squared_error[h, lv, cell])
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
    parts = []
    for (source, hazard, lv), longest in s.lead_h.items():
        warned = ~np.isnan(longest)
        if warned.any():
            keys = s.truth.keys[hazard][warned]
            days = (keys % 1_000_000).astype("datetime64[D]")
            parts.append(pd.DataFrame({"source": source, "hazard": hazard, "level": COLOUR_LEVELS[lv],
                                       "province": [province_code(int(c[:2])) for c in s.truth.codes[keys // 1_000_000]],
                                       "month": days.astype("datetime64[M]").astype(int) % 12 + 1,
                                       "lead_h": longest[warned]}))
    if not parts:
        return pd.DataFrame(columns=[*by, "events_warned", "mean_lead_h"])
    frame = in_province(pd.concat(parts, ignore_index=True), province)
    grouped = frame.groupby(list(by), sort=False)["lead_h"].agg(["count", "mean"]).reset_index()
    return ordered(grouped.rename(columns={"count": "events_warned", "mean": "mean_lead_h"}).round({"mean_lead_h": 1}), by)


def cell_frame(truth: Observed, cell: np.ndarray) -> pd.DataFrame:
    lead, province, month = np.unravel_index(cell, truth.cell_axes)
    return pd.DataFrame({"lead_d": lead, "province": [province_code(p) for p in truth.provinces[province]],
                         "month": month + 1})


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
