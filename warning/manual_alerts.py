"""Raising or standing down an alert by hand: validated, stored, audited; cycles respect it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.levels import COLOUR_LEVELS
from triggers.manual import ManualDecision
from triggers.rules import HAZARDS
from triggers.validation import InvalidConfig
from warning.accounts import audit
from warning.events import iso
from warning.models import ManualAlertDecision, utcnow

MAX_HOURS = 24 * 14


def decide(session: Session, known_codes: set[str], *, region_code: str, hazard: str, action: str,
           level: str | None, reason: str, actor: str, hours: float, now: datetime | None = None) -> ManualAlertDecision:
    problems = []
    if region_code not in known_codes:
        problems.append(f"region: unknown county {region_code}")
    if hazard not in HAZARDS:
        problems.append(f"hazard: one of {', '.join(HAZARDS)}")
    if action == "raise" and level not in COLOUR_LEVELS:
        problems.append(f"level: one of {', '.join(COLOUR_LEVELS)}")
    if not 1 <= hours <= MAX_HOURS:
        problems.append(f"hours: 1 to {MAX_HOURS}")
    if not reason.strip() or not actor.strip():
        problems.append("who and why are both required")
    if problems:
        raise InvalidConfig(problems)
    now = now or utcnow()
    decision = ManualAlertDecision(region_code=region_code, hazard=hazard, action=action,
                                   level=level if action == "raise" else None, reason=reason.strip(),
                                   actor=actor.strip(), created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(decision)
    session.flush()
    audit(session, decision.actor, f"alert.{action}", f"alert/{region_code}/{hazard}", None,
          {"id": decision.id, "level": decision.level, "expires_at": iso(decision.expires_at)}, reason=decision.reason)
    return decision


def clear(session: Session, decision_id: int, actor: str) -> ManualAlertDecision:
    decision = session.get(ManualAlertDecision, decision_id)
    if decision is None or decision.cleared_at is not None:
        raise InvalidConfig([f"decision {decision_id}: no such active decision"])
    decision.cleared_at, decision.cleared_by = utcnow(), actor
    audit(session, actor, f"alert.{decision.action}.clear", f"alert/{decision.region_code}/{decision.hazard}",
          {"id": decision.id}, None)
    return decision


def active_decisions(session: Session) -> list[ManualDecision]:
    """Those not cleared (expiry is judged by the cycle's own clock)."""
    rows = session.scalars(select(ManualAlertDecision).where(ManualAlertDecision.cleared_at.is_(None))
                           .order_by(ManualAlertDecision.created_at))
    return [ManualDecision(r.region_code, r.hazard, r.action, r.level, r.reason, r.actor, r.expires_at) for r in rows]
