"""The JSON API under /api/v1: bearer tokens, scope on every call, RFC 9457 problem details."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from triggers.validation import InvalidConfig
from warning.accounts import can_change, can_see, user_for_token
from warning.manual_cpi import as_dict, set_manual_cpi
from warning.models import FeedRun, ManualCpi
from warning.web.openapi import OPENAPI

api = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 200


def runtime():
    return current_app.extensions["coldwarn"]


def problem(status: int, title: str, detail: str = "", errors: list[dict] | None = None):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def field_errors(problems: list[str]) -> list[dict]:
    """'field: message' lines as [{"field", "message"}]."""
    return [dict(zip(("field", "message"), p.split(": ", 1))) if ": " in p else {"field": "", "message": p}
            for p in problems]


def http_error(error: HTTPException):
    """App-wide: errors under /api/ (even unknown paths, which no blueprint owns) are problem details."""
    if request.path.startswith(api.url_prefix + "/") or request.path == api.url_prefix:
        return problem(error.code, error.name, error.description)
    return error


def authenticated(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        with runtime().sessions.begin() as session:
            user = user_for_token(session, token) if token else None
            if user is not None:
                session.expunge(user)
        if user is None:
            response = problem(401, "Unauthorized", "send a valid API token as 'Authorization: Bearer …'")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        g.user = user
        return view(*args, **kwargs)
    return wrapper


def page_args() -> tuple[int, int]:
    try:
        page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 50))
    except ValueError:
        page = per_page = 0
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidConfig([f"page: page >= 1 and per_page 1..{MAX_PER_PAGE}"])
    return page, per_page


def paginated(session, query, render) -> dict:
    page, per_page = page_args()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [render(i) for i in items], "page": page, "per_page": per_page, "total": total}


@api.errorhandler(InvalidConfig)
def invalid(error: InvalidConfig):
    return problem(422, "Unprocessable Content", "the request has invalid fields", field_errors(error.problems))


@api.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@api.get("/cpi/manual")
@authenticated
def list_manual_cpi():
    with runtime().sessions() as session:
        query = select(ManualCpi).order_by(ManualCpi.area_code, ManualCpi.month)
        visible = [m.area_code for m in session.scalars(query) if can_see(g.user, m.area_code)]
        return jsonify(paginated(session, query.where(ManualCpi.area_code.in_(visible)), as_dict))


@api.post("/cpi/manual")
@authenticated
def enter_manual_cpi():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "Bad Request", "send a JSON object")
    area = str(body.get("area_code", ""))
    if not can_change(g.user, area):
        return problem(403, "Forbidden", f"{g.user.name} may not enter figures for area {area}")
    fields = {k: body.get(k, "") for k in ("area_code", "month", "cpi_yoy", "food_cpi_yoy", "released_on")}
    with runtime().sessions.begin() as session:
        entry = set_manual_cpi(session, runtime().config, fields, g.user.name, str(body.get("reason", "")))
        result = as_dict(entry)
    return jsonify(result), 201


@api.get("/feed-runs")
@authenticated
def feed_runs():
    def render(run: FeedRun) -> dict:
        return {"id": run.id, "cycle_id": run.cycle_id, "feed": run.feed, "format": run.format, "source": run.source,
                "fetched_at": run.fetched_at.isoformat(), "status": run.status, "attempts": run.attempts,
                "elapsed_ms": run.elapsed_ms, "rows": run.rows, "error": run.error, "fallback_from": run.fallback_from}
    with runtime().sessions() as session:
        return jsonify(paginated(session, select(FeedRun).order_by(FeedRun.id.desc()), render))
