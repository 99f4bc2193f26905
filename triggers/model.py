"""The values that flow between assessment, reconciliation and planning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Evidence:
    """Why a level fired: the numbers, and a sentence for people in Chinese and English."""

    zh: str
    en: str
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"zh": self.zh, "en": self.en, "values": self.values}


@dataclass(frozen=True)
class Assessment:
    region_code: str
    hazard: str
    level: str
    stage: str
    onset: datetime  # UTC
    ends: datetime   # UTC, end of the last day the hazard is expected
    lead_time_h: float
    evidence: Evidence
    rule_version: str


@dataclass(frozen=True)
class OpenAlert:
    """What reconciliation needs to know of an alert already issued."""

    alert_id: int
    region_code: str
    hazard: str
    level: str
    stage: str
    onset: datetime
    ends: datetime
    quiet_cycles: int = 0


@dataclass(frozen=True)
class Decision:
    """What to do with one (region, hazard): issue, update, resolve; or keep/quiet (send nothing)."""

    action: str
    region_code: str
    hazard: str
    assessment: Assessment | None = None
    alert: OpenAlert | None = None
    quiet_cycles: int = 0
    reason: str = ""

    SENDS = ("issue", "update", "resolve")

    @property
    def sends(self) -> bool:
        return self.action in self.SENDS
