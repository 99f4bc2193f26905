"""The JSON API under /api/v1: bearer tokens, scope on every call, RFC 9457 problem details."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, NotFound

from triggers.validation import InvalidConfig
from triggers.tasks import is_overdue
from warning.accounts import can_change, can_see, user_for_token
from warning.caseload import export_caseload, import_upload
from warning.config import COUNTY_EVENTS
from warning.events import iso, task_data
from warning.manual_cpi import as_dict, set_manual_cpi
from warning.models import CycleRun, DeliveryAttempt, FeedRun, JobRun, ManualCpi, OutboxMessage, Subscription, Task, utcnow
from warning.render import render_html, render_markdown, sheet_model
from warning.subscriptions import (add_subscription, describe_subscription, may_manage, may_view, parked_counts,
                                   remove_subscription, replay_parked)
from warning.web import change_task_status, progress_for_caller, require_region, runtime
from warning.web.openapi import OPENAPI

api = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000  # beyond it an offset no longer fits the database's integers (pages use it too)


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
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidConfig([f"page: page 1..{MAX_PAGE} and per_page 1..{MAX_PER_PAGE}"])
    return page, per_page


def paginated(session, query, render) -> dict:
    page, per_page = page_args()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [render(i) for i in items], "page": page, "per_page": per_page, "total": total}


def paginated_list(items: list, render) -> dict:
    """The same page for a list already filtered in Python (by scope rules SQL cannot express)."""
    page, per_page = page_args()
    shown = items[(page - 1) * per_page: page * per_page]
    return {"items": [render(i) for i in shown], "page": page, "per_page": per_page, "total": len(items)}


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


@api.get("/cycle-runs")
@authenticated
def cycle_runs():
    def render(run: CycleRun) -> dict:
        return {"id": run.id, "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
                "as_of": iso(run.as_of), "scenario": run.scenario, "status": run.status, "error": run.error,
                "summary": run.summary}
    with runtime().sessions() as session:
        return jsonify(paginated(session, select(CycleRun).order_by(CycleRun.started_at.desc()), render))


@api.get("/job-runs")
@authenticated
def job_runs():
    def render(run: JobRun) -> dict:
        return {"id": run.id, "job": run.job, "instance": run.instance, "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at), "status": run.status, "counts": run.counts, "error": run.error}
    query = select(JobRun).order_by(JobRun.id.desc())
    if request.args.get("job"):
        query = query.where(JobRun.job == request.args["job"])
    with runtime().sessions() as session:
        return jsonify(paginated(session, query, render))


def visible_region(view):
    """404 for an unknown county, 403 for one outside the caller's area; else the view."""
    @wraps(view)
    def wrapper(code: str, *args, **kwargs):
        require_region(code)
        return view(code, *args, **kwargs)
    return wrapper


@api.get("/regions/<code>/tasks")
@authenticated
@visible_region
def region_tasks(code: str):
    query = select(Task).where(Task.region_code == code).order_by(Task.due_at, Task.id)
    if request.args.get("status"):
        query = query.where(Task.status.in_(request.args["status"].split(",")))
    with runtime().sessions() as session:
        return jsonify(paginated(session, query, lambda t: task_data(t) | {
            "instance": t.instance, "note": t.note, "alert_id": t.alert_id, "subsidy_id": t.subsidy_id,
            "updated_by": t.updated_by, "overdue": is_overdue(t.status, t.due_at, utcnow())}))


@api.post("/tasks/<int(max=2147483647):task_id>/status")
@authenticated
def task_status(task_id: int):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "Bad Request", "send a JSON object with status (and note)")
    status, note = body.get("status"), body.get("note")
    wrong = ([] if isinstance(status, str) else ["status: a task status as text"]) + (
        [] if note is None or isinstance(note, str) else ["note: text, or null"])
    if wrong:
        raise InvalidConfig(wrong)
    with runtime().sessions.begin() as session:
        task = change_task_status(session, task_id, status, note)
        return jsonify(task_data(task) | {"note": task.note, "updated_by": task.updated_by})


@api.get("/regions/<code>/sheet")
@authenticated
@visible_region
def region_sheet(code: str):
    lang = request.args.get("lang", runtime().settings.web.language)
    fmt = request.args.get("format", "json")
    if lang not in ("zh", "en") or fmt not in ("json", "html", "md"):
        raise InvalidConfig(["lang: zh or en; format: json, html or md"])
    with runtime().sessions() as session:
        model = sheet_model(session, runtime().config, code, utcnow(), lang)
    if fmt == "html":
        return Response(render_html(model), content_type="text/html; charset=utf-8")
    if fmt == "md":
        return Response(render_markdown(model), content_type="text/markdown; charset=utf-8")
    return jsonify({k: v for k, v in model.items() if k != "labels"})


@api.get("/progress")
@authenticated
def task_progress():
    return jsonify({"items": progress_for_caller(request.args.get("by", "province"))})


@api.get("/caseload")
@authenticated
def caseload_csv():
    with runtime().sessions() as session:
        body = export_caseload(session, visible=lambda code: can_see(g.user, code))
    return Response(body, content_type="text/csv; charset=utf-8")


@api.post("/caseload")
@api.post("/shelters")
@authenticated
def caseload_upload():
    if g.user.role == "viewer":
        return problem(403, "Forbidden", "viewers cannot change data")
    with runtime().sessions.begin() as session:
        count = import_upload(session, request.path.rsplit("/", 1)[-1], request.get_data(), "upload.csv",
                              runtime().config.region_codes, lambda code: can_change(g.user, code), g.user.name)
    return jsonify({"imported": count}), 201


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body


def parse_instant(value, field: str) -> datetime:
    """An ISO 8601 time; without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidConfig([f"{field}: an ISO 8601 time such as 2026-01-19T08:00:00+08:00 (got {value!r})"]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def visible_subscriptions(session) -> list[Subscription]:
    return [s for s in session.scalars(select(Subscription).order_by(Subscription.name)) if may_view(g.user, s.regions)]


def managed_subscription(session, name: str) -> Subscription:
    """The named subscription if the caller may change it: 404 when they cannot see it, 403 when only see it."""
    row = session.scalars(select(Subscription).where(Subscription.name == name)).first()
    if row is None or not may_view(g.user, row.regions):
        raise NotFound(f"no subscription {name}")
    if not may_manage(g.user, row.regions, row.events):
        raise Forbidden(f"{g.user.name} may not change subscription {name}")
    return row


@api.get("/subscriptions")
@authenticated
def list_subscriptions():
    with runtime().sessions() as session:
        counts = parked_counts(session)
        return jsonify(paginated_list(visible_subscriptions(session),
                                      lambda s: describe_subscription(s) | {"parked": counts.get(s.id, 0)}))


@api.post("/subscriptions")
@authenticated
def create_subscription():
    body = json_body()
    regions, events = body.get("regions") or [], body.get("events") or list(COUNTY_EVENTS)
    if not (isinstance(regions, list) and isinstance(events, list)):
        raise InvalidConfig(["regions: a list of region codes; events: a list of event types"])
    if not may_manage(g.user, [str(r) for r in regions], [str(e) for e in events]):
        return problem(403, "Forbidden", f"{g.user.name} may subscribe only to their own area's events, "
                                         "naming its region codes")
    with runtime().sessions.begin() as session:
        row = add_subscription(session, body, "api", runtime().settings.delivery.allow_private_targets, g.user.name)
        session.flush()
        result = describe_subscription(row)
    return jsonify(result), 201


@api.delete("/subscriptions/<name>")
@authenticated
def delete_subscription(name: str):
    with runtime().sessions.begin() as session:
        managed_subscription(session, name)
        parked = remove_subscription(session, name, g.user.name)
    return jsonify({"removed": name, "parked": parked})


@api.post("/subscriptions/<name>/replay")
@authenticated
def replay_subscription(name: str):
    body = request.get_json(silent=True) or {}
    since = parse_instant(body.get("since"), "since") if isinstance(body, dict) and body.get("since") else None
    with runtime().sessions.begin() as session:
        managed_subscription(session, name)
        queued = replay_parked(session, g.user.name, subscription=name, since=since)
    return jsonify({"queued": queued})


def delivery_view(row: OutboxMessage, names: dict[int, str]) -> dict:
    return {"message_id": row.message_id, "subscription": names[row.subscription_id], "event_type": row.event_type,
            "status": row.status, "attempts": row.attempts, "created_at": iso(row.created_at),
            "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
            "delivered_at": iso(row.delivered_at), "last_error": row.last_error}


def deliveries_query(names: dict[int, str], statuses: str):
    """Messages of the subscriptions in `names`, newest first, of the comma-separated statuses (all if empty)."""
    query = select(OutboxMessage).where(OutboxMessage.subscription_id.in_(names)).order_by(OutboxMessage.id.desc())
    return query.where(OutboxMessage.status.in_(statuses.split(","))) if statuses else query


@api.get("/deliveries")
@authenticated
def list_deliveries():
    with runtime().sessions() as session:
        names = {s.id: s.name for s in visible_subscriptions(session)}
        query = deliveries_query(names, request.args.get("status", ""))
        if request.args.get("subscription"):
            query = query.where(OutboxMessage.subscription_id.in_(
                [i for i, n in names.items() if n == request.args["subscription"]]))
        return jsonify(paginated(session, query, lambda row: delivery_view(row, names)))


def visible_delivery(session, message_id: str) -> tuple[OutboxMessage, Subscription]:
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).first()
    subscription = session.get(Subscription, row.subscription_id) if row else None
    if subscription is None or not may_view(g.user, subscription.regions):
        raise NotFound(f"no message {message_id}")
    return row, subscription


@api.get("/deliveries/<message_id>")
@authenticated
def delivery_detail(message_id: str):
    with runtime().sessions() as session:
        row, subscription = visible_delivery(session, message_id)
        attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == row.id)
                                   .order_by(DeliveryAttempt.id)).all()
        return jsonify(delivery_view(row, {subscription.id: subscription.name}) | {"data": row.data, "attempts": [
            {"at": iso(a.attempted_at), "outcome": a.outcome, "http_status": a.http_status,
             "latency_ms": a.latency_ms, "error": a.error} for a in attempts]})


@api.post("/deliveries/<message_id>/replay")
@authenticated
def replay_delivery(message_id: str):
    with runtime().sessions.begin() as session:
        status = replay_message(session, message_id)
    if status != "parked":
        return problem(409, "Conflict", f"only parked messages are replayed; {message_id} is {status}")
    return jsonify({"queued": 1})


def replay_message(session, message_id: str) -> str:
    """Queue one parked message again if the caller may (404/403 otherwise); returns the status it had."""
    row, subscription = visible_delivery(session, message_id)
    managed_subscription(session, subscription.name)
    status = row.status
    if status == "parked":
        replay_parked(session, g.user.name, message_id=message_id)
    return status
