"""The Flask app factory. Nothing runs at import time; the scheduler is started by `serve`."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from warning.accounts import can_change, can_see
from warning.clock import judged_now
from warning.events import Outbox
from warning.models import Task, utcnow
from warning.rule_versions import rules_text
from warning.runtime import Runtime
from warning.settings import secret_key
from warning.tasks import progress, set_status


def runtime() -> Runtime:
    """The running coldwarn (config, database, HTTP session) behind the current request."""
    return current_app.extensions["coldwarn"]


def rules_in_force_text() -> str:
    """The rules in force (brought up to date first: another instance may have saved newer ones), as YAML."""
    rt = runtime()
    rt.refresh_rules()
    with rt.sessions() as session:
        return rules_text(session, rt.config)


def require_region(code: str) -> None:
    """404 for an unknown county, 403 for one outside the caller's area (pages and API alike)."""
    if code not in runtime().config.region_codes:
        raise NotFound(f"no region {code}")
    if not can_see(g.user, code):
        raise Forbidden(f"{g.user.name} may not see region {code}")


def changeable_task(session, task_id: int) -> Task:
    """The task, if the caller may change it: 404 if they cannot see it, 403 if they may only look."""
    task = session.get(Task, task_id)
    if task is None or not can_see(g.user, task.region_code):
        raise NotFound(f"no task {task_id}")
    if not can_change(g.user, task.region_code):
        raise Forbidden(f"{g.user.name} may not change tasks of {task.region_code}")
    return task


def change_task_status(session, task_id: int, status: str, note: str | None) -> Task:
    """The caller moves a task on: 404 if they cannot see it, 403 if they may only look, and
    InvalidConfig (before anything changes) if the lifecycle refuses the move."""
    changeable_task(session, task_id)
    outbox = Outbox(session, None, utcnow(), runtime().settings.delivery.retry_schedule_s[0])
    return set_status(session, runtime().config, outbox, task_id, status, note, g.user.name)


def progress_for_caller(by: str) -> list[dict]:
    """Task progress the caller may see (province users: within their province); county users get 403,
    since it spans many counties; InvalidConfig for an unknown `by`."""
    if g.user.role == "county":
        raise Forbidden("progress covers many counties; county users see their own tasks")
    within = g.user.region_code if g.user.role == "province" else None
    with runtime().sessions() as session:
        return progress(session, runtime().config, by, judged_now(session), within)


NUL = ("\x00", "%00", "\\u0000")


def refuse_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL: a request carrying one is refused whole, before any query."""
    sent = (request.full_path, request.get_data(as_text=True))
    if any(nul in part for part in sent for nul in NUL):
        raise BadRequest("NUL characters (\\u0000) are not allowed in requests")


def create_app(rt: Runtime | None = None) -> Flask:
    rt = rt or Runtime.start()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key(rt.settings), SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=rt.settings.web.secure_cookies,
                      SESSION_COOKIE_NAME="coldwarn_session",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=rt.settings.web.session_hours))
    app.json.ensure_ascii = False
    app.extensions["coldwarn"] = rt
    app.before_request(refuse_nul_characters)
    from werkzeug.exceptions import HTTPException

    from warning.web import (api_outcomes, api_regions, api_rules, api_verification, console,  # noqa: F401
                             console_report, console_rules, console_subscriptions, console_verification)
    from warning.web.api import api, http_error
    from warning.web.metrics import metrics
    from warning.web.pages import pages
    from warning.web.views import bp
    app.register_blueprint(bp)
    app.register_blueprint(metrics)
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_error_handler(HTTPException, http_error)
    return app
