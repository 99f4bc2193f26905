"""Health and readiness, for load balancers and operators (no login)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text

from warning.models import CycleRun, FeedStatus, utcnow
from warning.web import runtime

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    try:
        with runtime().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means unhealthy, and says why
        return jsonify(status="error", database=str(error)[:200]), 503
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database answers, no feed is stale and some instance is running the cycles."""
    problems = []
    try:
        with runtime().sessions() as session:
            stale = session.scalars(select(FeedStatus).where(FeedStatus.stale_since.is_not(None))).all()
            problems += [f"feed {s.feed} stale since {s.stale_since.isoformat()}" for s in stale]
            problems += scheduler_problems(session)
    except Exception as error:  # the database is down: not ready, and say so
        problems.append(f"database: {str(error)[:200]}")
    return jsonify(status="ready" if not problems else "unready", problems=problems), 200 if not problems else 503


def scheduler_problems(session) -> list[str]:
    """A cycle should start every slot; two missed slots mean no scheduler is alive (or none can get on)."""
    minutes = runtime().settings.schedule.cycle_minutes
    latest = session.scalar(select(func.max(CycleRun.started_at)))
    if latest is None:
        return ["scheduler: no cycle has run yet"]
    if utcnow() - latest > timedelta(minutes=2 * minutes + 5):
        return [f"scheduler: no cycle has started since {latest.isoformat()} (one is due every {minutes} min); "
                "is a `coldwarn serve` or `coldwarn worker` with its scheduler running?"]
    return []
