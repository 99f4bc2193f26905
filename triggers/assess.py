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


def to_assessments(hazard: str, levels: np.ndarray, starts_ns: np.ndarray, slot: timedelta, codes: pd.Index,
                   rules: Rules, now: datetime, evidence_at: Evidence_at,
                   lowest: np.ndarray | None = None, acting: np.ndarray | None = None,
                   horizon_h: float | None = None) -> list[Assessment]:
    """With `lowest` (values per region and slot, the lower the more severe), the evidence names the
    most severe slot of the top level and the most severe of the whole period, not the first. With
    `acting` (per region: whether it is at the act stage), the stage is that rather than the onset's lead
    time's, and `horizon_h` then says how far ahead `levels` may fire (the stages' prepare horizon if not)."""
    now_ns = pd.Timestamp(now).value
    horizon_ns = pd.Timestamp(now + timedelta(hours=horizon_h or rules.stages.prepare_within_h)).value
    slot_ns = int(slot.total_seconds() * 1e9)
    in_window = (starts_ns + slot_ns > now_ns) & (starts_ns <= horizon_ns)
    rows = np.flatnonzero((in_window & (levels > 0)).any(axis=1))
    if not len(rows):
        return []
    window = np.where(in_window[rows], levels[rows], 0)  # firing regions only, from here on
    firing, peak_level = window > 0, window.max(axis=1)
    first, last = firing.argmax(axis=1), window.shape[1] - 1 - firing[:, ::-1].argmax(axis=1)
    top = window == peak_level[:, None]
    if lowest is not None:
        severity = lowest if len(rows) == len(lowest) else lowest[rows]  # (every region firing: no copy)
        peaks, lows = most_severe(severity, top), most_severe(severity, firing)
    else:
        peaks, lows = top.argmax(axis=1), None
    onsets, ends = starts_ns[rows, first], starts_ns[rows, last] + slot_ns
    leads = np.maximum(0.0, (onsets - now_ns) / 3.6e12)
    names, out = codes.to_numpy(), []
    for i, row in enumerate(rows):
        level, lead = COLOUR_LEVELS[window[i, peaks[i]] - 1], float(leads[i])
        evidence = (evidence_at(row, peaks[i], level, lows[i]) if lows is not None
                    else evidence_at(row, peaks[i], level))
        out.append(Assessment(
            region_code=names[row], hazard=hazard, level=level,
            stage=rules.stages.stage_for(lead) if acting is None else ("act" if acting[row] else "prepare"),
            onset=utc(onsets[i]), ends=utc(ends[i]), lead_time_h=round(lead, 1), evidence=evidence,
            rule_version=rules.version))
    return out


def most_severe(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Per row, the first slot of the lowest value among the marked slots (NaN never the lowest)."""
    marked = np.where(among, values, np.inf)  # (one copy: a national grid of townships is 107 MB of it)
    marked[np.isnan(marked)] = np.inf
    return marked.argmin(axis=1)


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
    return f"{float(value):.1f}".replace("-", "−")  # (a float: numpy's own formatting is ten times slower)
