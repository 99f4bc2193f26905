"""The time tasks and pages are judged by: the wall clock for live feeds; for a scenario, the
scenario's clock (its "now" at the newest cycle) running on from that cycle's start. So a demo or a
recorded cold wave shows what is overdue as it would have been, not against today's date."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warning.models import CycleRun, utcnow

LIVE = "live"


def judged_now(session: Session) -> datetime:
    newest = session.execute(select(CycleRun.as_of, CycleRun.started_at, CycleRun.scenario)
                             .where(CycleRun.status == "ok").order_by(CycleRun.started_at.desc()).limit(1)).first()
    now = utcnow()
    if newest is None or newest.scenario in (None, LIVE):
        return now
    return newest.as_of + (now - newest.started_at)
