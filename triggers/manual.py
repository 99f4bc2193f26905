"""Decisions made by hand: an admin raises an alert or stands one down, with a reason.

A decision holds until it expires or is cleared; while it holds, cycles respect it: a raise keeps
the alert at least at its level, a stand-down keeps the (region, hazard) quiet whatever is assessed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from triggers.levels import LEVEL_NAMES, rank
from triggers.model import Assessment, Evidence


@dataclass(frozen=True)
class ManualDecision:
    region_code: str
    hazard: str
    action: str  # raise, stand_down
    level: str | None
    reason: str
    actor: str
    expires_at: datetime


def apply_manual(assessments: list[Assessment], decisions: list[ManualDecision], now: datetime,
                 rule_version: str) -> tuple[list[Assessment], dict[tuple[str, str], str]]:
    """Assessments with the raises applied, and the stood-down (region, hazard) with their reasons."""
    active = [d for d in decisions if d.expires_at > now]
    stood_down = {(d.region_code, d.hazard): f"stood down by {d.actor}: {d.reason}"
                  for d in active if d.action == "stand_down"}
    by_key = {(a.region_code, a.hazard): a for a in assessments if (a.region_code, a.hazard) not in stood_down}
    for d in (d for d in active if d.action == "raise" and (d.region_code, d.hazard) not in stood_down):
        assessed = by_key.get((d.region_code, d.hazard))
        by_key[(d.region_code, d.hazard)] = raised(assessed, d, now, rule_version)
    return list(by_key.values()), stood_down


def raised(assessed: Assessment | None, d: ManualDecision, now: datetime, rule_version: str) -> Assessment:
    note_zh = f"人工提升至{LEVEL_NAMES[d.level]['zh']}({d.actor}:{d.reason})"
    note_en = f"raised to {d.level} by {d.actor}: {d.reason}"
    if assessed is None:
        return Assessment(d.region_code, d.hazard, d.level, "act", now, d.expires_at, 0.0,
                          Evidence(note_zh, note_en, {"manual": True}), rule_version)
    if rank(assessed.level) >= rank(d.level):
        return assessed
    evidence = Evidence(f"{assessed.evidence.zh};{note_zh}", f"{assessed.evidence.en}; {note_en}",
                        {**assessed.evidence.values, "manual": True})
    return replace(assessed, level=d.level, evidence=evidence, ends=max(assessed.ends, d.expires_at))
