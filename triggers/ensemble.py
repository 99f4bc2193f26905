"""Probabilistic triggers: the share of an ensemble's members meeting each level of a daily rule.

Each member's local-day values are judged by the same level functions as the deterministic forecast
(the members stacked as rows of one grid). A level holds on a day when at least `min_pct` of the
members that have that day meet it or a stricter level, counted in whole members (7 of 10 is 70 %
exactly, 69 of 100 is not). A rule's `act` stage asks a larger share within a shorter lead time than
its `prepare` stage (the anticipatory-action practice: prepare at >= 40 % from 5 days out, act at
>= 70 % within 2 days). Which forecast decides is each region's `ensemble.use`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from triggers.assess import per_region, to_assessments
from triggers.coldwave import level_matrix
from triggers.daily_rules import grade_levels, persistent_levels
from triggers.grid import DAILY_VALUES, DailyGrid, day_words
from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES, rank
from triggers.model import Assessment, Evidence
from triggers.rules import Rules

# The daily rules and each one's level matrix (0 none, 1 blue … 4 red) for a grid of any rows.
LEVELS_OF = {
    "cold_wave": lambda daily, thresholds, rules, normals: level_matrix(daily, thresholds)[0],
    "cold_wave_grade": lambda daily, thresholds, rules, normals: grade_levels(daily, thresholds, rules)[0],
    "persistent_cold": lambda daily, thresholds, rules, normals: persistent_levels(daily, thresholds, normals),
}
STAGES = ("prepare", "act")
ENSEMBLE_COLUMNS = ("region_code", "member", "day") + DAILY_VALUES


@dataclass
class EnsembleDaily:
    """Each member's local-day values: name -> members x regions x days (NaN where a member lacks the day)."""

    codes: pd.Index
    days: pd.DatetimeIndex
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> EnsembleDaily:
        """From rows of ENSEMBLE_COLUMNS (a feed's tables joined; a later row of the same cell counts)."""
        if frame.empty:
            return cls(pd.Index([], name="region_code"), pd.DatetimeIndex([]))
        rows, codes = pd.factorize(frame["region_code"], sort=True)
        days = pd.date_range(frame["day"].min(), frame["day"].max(), freq="D").as_unit("ns")
        cols = days.get_indexer(pd.DatetimeIndex(frame["day"]).as_unit("ns"))
        members = frame["member"].to_numpy(dtype=int)
        shape = (int(members.max()) + 1, len(codes), len(days))
        values = {}
        for name in DAILY_VALUES:
            values[name] = np.full(shape, np.nan)
            values[name][members, rows, cols] = frame[name].to_numpy(dtype=float)
        return cls(pd.Index(codes, name="region_code"), days, values)

    @property
    def empty(self) -> bool:
        return len(self.codes) == 0

    def stacked(self) -> DailyGrid:
        """Every member's regions as rows of one grid (member 0's regions first)."""
        members = self.values["tmin"].shape[0]
        return DailyGrid(pd.Index(np.tile(self.codes.to_numpy(), members), name="region_code"), self.days,
                         {name: v.reshape(-1, len(self.days)) for name, v in self.values.items()})

    def present(self) -> np.ndarray:
        """How many members have each region's day (regions x days)."""
        return (~np.isnan(self.values["tmin"])).sum(axis=0)


def assess_ensemble(ensemble: EnsembleDaily, thresholds: pd.DataFrame, tz_by_code: pd.Series, rules: Rules,
                    now: datetime, normals: pd.Series | None = None) -> list[Assessment]:
    """Assessments of the daily rules from the members' shares, for the regions whose rule uses them."""
    if ensemble.empty:
        return []
    thr = thresholds.reindex(ensemble.codes)
    calendar = DailyGrid(ensemble.codes, ensemble.days)
    starts = calendar.starts_ns(tz_by_code)
    lead_h = (starts - pd.Timestamp(now).value) / 3.6e12
    not_over = lead_h > -24
    present, stacked, out = ensemble.present(), ensemble.stacked(), []
    for hazard, levels_of in LEVELS_OF.items():
        using = (thr[f"{hazard}.ensemble.use"] != "deterministic").to_numpy() & thr[f"{hazard}.enabled"].fillna(False).to_numpy(dtype=bool)
        if not using.any():
            continue
        member_levels = levels_of(stacked, thresholds, rules, normals).reshape(-1, *present.shape)
        meeting = {index: (member_levels >= index).sum(axis=0) for index in range(1, len(COLOUR_LEVELS) + 1)}
        held = {stage: level_held(meeting, present, thr, f"{hazard}.ensemble.{stage}.", lead_h, not_over)
                for stage in STAGES}
        levels = np.where(using[:, None], np.maximum(held["prepare"], held["act"]), 0)
        acting = (held["act"] > 0).any(axis=1)
        horizon_h = float(thr[f"{hazard}.ensemble.prepare.within_h"].max())
        out += to_assessments(hazard, levels, starts, timedelta(days=1), ensemble.codes, rules, now,
                              share_evidence(hazard, meeting, present, ensemble.days), acting=acting,
                              horizon_h=horizon_h)
    return out


def level_held(meeting: dict[int, np.ndarray], present: np.ndarray, thr: pd.DataFrame, prefix: str,
               lead_h: np.ndarray, not_over: np.ndarray) -> np.ndarray:
    """The highest level index whose share reaches the stage's `min_pct`, on the days within its lead time."""
    in_reach = not_over & (lead_h <= per_region(thr, prefix + "within_h")) & (present > 0)
    needed = per_region(thr, prefix + "min_pct") * present  # (in hundredths of a member: exact in floats)
    held = np.zeros(present.shape, dtype=int)
    for index, count in meeting.items():
        held = np.where(in_reach & (count * 100 >= needed), index, held)
    return held


def share_evidence(hazard: str, meeting: dict[int, np.ndarray], present: np.ndarray, days: pd.DatetimeIndex):
    words, names = day_words(days), HAZARD_NAMES[hazard]

    def evidence_at(row: int, day: int, level: str) -> Evidence:
        count, members = int(meeting[rank(level)][row, day]), int(present[row, day])
        pct, when = round(100 * count / members), words[day]
        return Evidence(
            zh=f"{members} 个集合成员中 {count} 个({pct} %)达到{names['zh']}{LEVEL_NAMES[level]['zh']}标准,"
               f"{when['month']}月{when['day']}日",
            en=f"{count} of {members} ensemble members ({pct} %) meet the {names['en']} {level} criteria "
               f"on {when['day']} {when['abbr']}",
            values={"day": when["iso"], "members": members, "meeting": count, "share_pct": round(100 * count / members, 1),
                    "source": "ensemble"})
    return evidence_at


def decided(deterministic: list[Assessment], ensemble: EnsembleDaily, by_ensemble: list[Assessment],
            thresholds: pd.DataFrame) -> list[Assessment]:
    """The assessments a cycle acts on. For a rule a region runs on `ensemble`, the ensemble's alone where
    the cycle has members for the region (the deterministic forecast stands in where it has none, so a
    failed ensemble feed never silences a county); on `both`, the more severe of the two."""
    covered = set(ensemble.codes[(ensemble.present() > 0).any(axis=1)]) if not ensemble.empty else set()
    chosen = {(a.region_code, a.hazard): a for a in by_ensemble}
    out = []
    for a in deterministic:
        use = thresholds.at[a.region_code, f"{a.hazard}.ensemble.use"] if a.hazard in LEVELS_OF else "deterministic"
        rival = chosen.pop((a.region_code, a.hazard), None)
        if use == "ensemble" and a.region_code in covered:
            out += [rival] if rival else []
        elif rival is not None and severity(rival) > severity(a):
            out.append(rival)
        else:
            out.append(a)
    return out + list(chosen.values())


def severity(assessment: Assessment) -> tuple:
    return rank(assessment.level), assessment.stage == "act", -assessment.onset.timestamp()
