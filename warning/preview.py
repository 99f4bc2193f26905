"""What edited rules would have done: the stored forecasts of the last N days replayed under
today's rules and under the edit, the alerts each would have raised, side by side, and how each
would have scored against what the later cycles saw (triggers.verification)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triggers.levels import COLOUR_LEVELS, LEVEL_RANK
from triggers.model import Assessment
from triggers.rules import Rules
from triggers.validation import InvalidConfig
from triggers.verification import HAZARDS, SOURCES, DayRecord, contingency_table, score
from warning.config import AppConfig
from warning.cycle import Inputs, assess_inputs
from warning.events import iso
from warning.feeds.replay import replay_source
from warning.models import CycleRun
from warning.verification import rows_of

MAX_DAYS = 30
MAX_CYCLES = 120  # a preview answers within a request: beyond this, cycles are sampled evenly
CHANGE_ORDER = ("added", "raised", "lowered", "removed")


@dataclass
class Peak:
    """The highest level one rule set reached for a (region, hazard) over the replayed cycles."""

    level: str
    onset: datetime
    first_seen: datetime  # the as-of time of the first cycle that would have raised it


def preview_rules(session: Session, config: AppConfig, edited: Rules, days: int) -> dict:
    """The window is the `days` before the newest good cycle's as-of time (a replayed scenario's
    cycles lie in the past; live ones end now)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidConfig([f"days: 1 to {MAX_DAYS}"])
    newest = session.scalar(select(func.max(CycleRun.as_of)).where(CycleRun.status == "ok"))
    cycles = [] if newest is None else session.scalars(
        select(CycleRun).where(CycleRun.status == "ok", CycleRun.as_of >= newest - timedelta(days=days))
        .order_by(CycleRun.as_of)).all()
    sampled = evenly(cycles, MAX_CYCLES)
    current: dict[tuple[str, str], Peak] = {}
    proposed: dict[tuple[str, str], Peak] = {}
    records: dict[str, list[DayRecord]] = {"current": [], "edited": []}
    pruned = 0
    for cycle in sampled:
        source = replay_source(session, cycle)
        if source is None:
            pruned += 1
            continue
        inputs = Inputs(source.pull(), {})
        for rules, peaks, kept in ((config.rules, current, records["current"]), (edited, proposed, records["edited"])):
            assessed = assess_inputs(inputs, config, rules, source.now)
            for assessment in assessed.assessments:
                keep_peak(peaks, assessment, source.now)
            kept += [r for r in [assessed.day_record(config.tz_by_code, source.now)] if r is not None]
    changes = compare(current, proposed, config.regions_by_code)
    return {"days": days, "until": iso(newest), "cycles_in_window": len(cycles), "cycles_replayed": len(sampled) - pruned,
            "cycles_pruned": pruned, "current_version": config.rules.version, "edited_version": edited.version,
            "totals": {"current": len(current), "edited": len(proposed),
                       **{kind: sum(c["change"] == kind for c in changes) for kind in CHANGE_ORDER}},
            "changes": changes, "scores": scores_side_by_side(records)}


def scores_side_by_side(records: dict[str, list[DayRecord]]) -> list[dict]:
    """Per source, hazard and level that either rule set counted: hits, misses, false alarms, POD, FAR
    and CSI under the rules in force and under the edit, over the replayed cycles. Each is judged by its
    own rules' reading of what happened (a rule defines its event as well as its warning)."""
    tables = {name: rows_of(contingency_table(score(kept), ("source", "hazard", "level"))) if kept else []
              for name, kept in records.items()}
    keyed = {name: {(r["source"], r["hazard"], r["level"]): r for r in rows} for name, rows in tables.items()}
    keys = sorted(keyed["current"].keys() | keyed["edited"].keys(),
                  key=lambda k: (SOURCES.index(k[0]), HAZARDS.index(k[1]), COLOUR_LEVELS.index(k[2])))
    nothing = {"hits": 0, "misses": 0, "false_alarms": 0, "pod": None, "far": None, "csi": None}
    return [{"source": key[0], "hazard": key[1], "level": key[2],
             **{name: {score_name: keyed[name].get(key, nothing)[score_name] for score_name in nothing} for name in keyed}}
            for key in keys]


def evenly(items: list, at_most: int) -> list:
    """At most `at_most` items spread over the whole list, always keeping the newest."""
    if len(items) <= at_most:
        return items
    step = len(items) / at_most
    return [items[len(items) - 1 - int(i * step)] for i in range(at_most)][::-1]


def keep_peak(peaks: dict, assessment: Assessment, as_of: datetime) -> None:
    key = (assessment.region_code, assessment.hazard)
    seen = peaks.get(key)
    if seen is None:
        peaks[key] = Peak(assessment.level, assessment.onset, as_of)
    elif LEVEL_RANK[assessment.level] > LEVEL_RANK[seen.level]:
        seen.level, seen.onset = assessment.level, assessment.onset


def compare(current: dict, proposed: dict, regions: dict) -> list[dict]:
    rows = []
    for key in current.keys() | proposed.keys():
        before, after = current.get(key), proposed.get(key)
        change = change_of(before, after)
        if change is None:
            continue
        region = regions[key[0]]
        shown = after or before
        rows.append({"region_code": key[0], "region_name": region["name"], "province": region["province_name"],
                     "hazard": key[1], "current_level": before.level if before else None,
                     "edited_level": after.level if after else None, "change": change,
                     "onset": iso(shown.onset), "first_seen": iso(shown.first_seen)})
    rows.sort(key=lambda r: (CHANGE_ORDER.index(r["change"]),
                             -LEVEL_RANK[r["edited_level"] or r["current_level"]], r["region_code"], r["hazard"]))
    return rows


def change_of(before: Peak | None, after: Peak | None) -> str | None:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    rank_before, rank_after = LEVEL_RANK[before.level], LEVEL_RANK[after.level]
    return "raised" if rank_after > rank_before else "lowered" if rank_after < rank_before else None
