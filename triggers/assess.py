"""From a level per region and time slot (a local day or an hour) to assessments.

Every rule computes a matrix of level indices (0 none, 1 blue … 4 red), regions x slots, in a
few whole-table operations; this module picks, for each region that fires within the prepare
horizon, its peak level, onset (start of the first firing slot), end, lead time and stage.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np
import pandas as pd

from triggers.levels import COLOUR_LEVELS
from triggers.model import Assessment, Evidence
from triggers.rules import Rules

# (row, slot, level) -> evidence; with `lowest` given to to_assessments, also the period's lowest slot
Evidence_at = Callable[..., Evidence]


DEFAULT_ZONE = "Asia/Shanghai"


def zones_of(codes: pd.Index, tz_by_code: pd.Series) -> np.ndarray:
    """Each region's time zone, in the order of `codes` (China Standard Time where unknown)."""
    return tz_by_code.reindex(codes).fillna(DEFAULT_ZONE).to_numpy()


def local_day_starts(days: pd.DatetimeIndex, codes: pd.Index, tz_by_code: pd.Series) -> np.ndarray:
    """UTC nanoseconds of each region's local midnight for each day (regions x days)."""
    zones = zones_of(codes, tz_by_code)
    starts = np.empty((len(codes), len(days)), dtype=np.int64)
    for zone in set(zones):
        starts[zones == zone] = days.tz_localize(zone).tz_convert("UTC").as_unit("ns").asi8
    return starts


def to_assessments(hazard: str, levels: np.ndarray, starts_ns: np.ndarray, slot: timedelta, codes: pd.Index,
                   rules: Rules, now: datetime, evidence_at: Evidence_at,
                   lowest: np.ndarray | None = None) -> list[Assessment]:
    """With `lowest` (values per region and slot, the lower the more severe), the evidence names the
    most severe slot of the top level and the most severe of the whole period, not the first."""
    now_ns = pd.Timestamp(now).value
    horizon_ns = pd.Timestamp(now + timedelta(hours=rules.stages.prepare_within_h)).value
    slot_ns = int(slot.total_seconds() * 1e9)
    in_window = (starts_ns + slot_ns > now_ns) & (starts_ns <= horizon_ns)
    levels = np.where(in_window, levels, 0)
    out = []
    for row in np.flatnonzero(levels.max(axis=1) > 0):
        firing = np.flatnonzero(levels[row] > 0)
        top = firing[levels[row, firing] == levels[row, firing].max()]
        peak = top[np.nanargmin(lowest[row, top])] if lowest is not None else top[0]
        level = COLOUR_LEVELS[levels[row, peak] - 1]
        onset = utc(starts_ns[row, firing[0]])
        lead = max(0.0, (onset - now).total_seconds() / 3600)
        out.append(Assessment(
            region_code=codes[row], hazard=hazard, level=level, stage=rules.stages.stage_for(lead), onset=onset,
            ends=utc(starts_ns[row, firing[-1]] + slot_ns), lead_time_h=round(lead, 1),
            evidence=(evidence_at(row, peak, level, firing[np.nanargmin(lowest[row, firing])])
                      if lowest is not None else evidence_at(row, peak, level)), rule_version=rules.version))
    return out


def utc(nanoseconds) -> datetime:
    return datetime.fromtimestamp(int(nanoseconds) / 1e9, tz=timezone.utc)


def per_region(thresholds: pd.DataFrame, column: str) -> np.ndarray:
    """One threshold as a column vector, to compare with a regions x slots matrix."""
    return thresholds[column].to_numpy(dtype=float)[:, None]


def columns_under(thresholds: pd.DataFrame, prefix: str) -> dict[str, np.ndarray]:
    """The threshold columns starting with `prefix` as arrays: one region's value is then an index, not a
    row lookup on the wide mixed-type table (which cost more than the rest of an assessment)."""
    return {column: thresholds[column].to_numpy() for column in thresholds.columns if column.startswith(prefix)}


def enabled_rows(thresholds: pd.DataFrame, hazard: str, codes: pd.Index) -> np.ndarray:
    return thresholds[f"{hazard}.enabled"].reindex(codes).fillna(False).to_numpy(dtype=bool)


def signed(value: float) -> str:
    return f"{value:.1f}".replace("-", "−")
