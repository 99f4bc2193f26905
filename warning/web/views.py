"""Health and readiness, for load balancers and operators (no login)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select, text

from warning.models import FeedStatus
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
    """Ready when the database answers and no feed is stale; says what is wrong otherwise."""
    problems = []
    try:
        with runtime().sessions() as session:
            stale = session.scalars(select(FeedStatus).where(FeedStatus.stale_since.is_not(None))).all()
            problems += [f"feed {s.feed} stale since {s.stale_since.isoformat()}" for s in stale]
    except Exception as error:  # the database is down: not ready, and say so
        problems.append(f"database: {str(error)[:200]}")
    return jsonify(status="ready" if not problems else "unready", problems=problems), 200 if not problems else 503
