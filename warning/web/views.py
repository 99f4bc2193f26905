"""Health and the overview page (the full console and API come with their own issue)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import func, select, text

from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES
from warning.models import Alert, CycleRun, FeedStatus, Task

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


@bp.get("/")
def overview():
    language = request.args.get("lang", runtime().settings.web.language)
    language = language if language in ("zh", "en") else "zh"
    zone = ZoneInfo(runtime().settings.feeds.timezone)
    regions = runtime().config.regions_by_code
    with runtime().sessions() as session:
        last = session.scalars(select(CycleRun).order_by(CycleRun.started_at.desc()).limit(1)).first()
        alerts = list(session.scalars(select(Alert).where(Alert.status == "open")))
        feeds = list(session.scalars(select(FeedStatus).order_by(FeedStatus.feed)))
        open_tasks = dict(session.execute(select(Task.region_code, func.count()).where(
            Task.status.in_(("open", "acknowledged", "in_progress"))).group_by(Task.region_code)).all())
    order = {level: i for i, level in enumerate(reversed(COLOUR_LEVELS))}
    alerts.sort(key=lambda a: (order.get(a.level, 9), a.region_code))
    rows = [{"code": a.region_code, "name": regions[a.region_code]["name"],
             "prefecture": regions[a.region_code]["prefecture_name"], "hazard": HAZARD_NAMES[a.hazard][language],
             "level": a.level, "level_name": LEVEL_NAMES[a.level][language],
             "onset": a.onset.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "stage": a.stage,
             "evidence": a.evidence[language], "tasks": open_tasks.get(a.region_code, 0)} for a in alerts]
    return render_template("overview.html", lang=language, rows=rows, last=last, zone=zone, feeds=feeds)
