"""The JSON API under /api/v1: bearer tokens, scope on every call, RFC 9457 problem details. Each
operation is declared with @endpoint (warning.web.contract); /api/v1/openapi.json is built from those."""

from __future__ import annotations

from datetime import timezone
from functools import wraps

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden, HTTPException, NotFound

from triggers.validation import InvalidConfig
from triggers.tasks import is_overdue
from warning.accounts import can_change, can_see
from warning.caseload import export_caseload, import_upload
from warning.clock import judged_now
from warning.config import SubscriptionConfig
from warning.events import iso, task_data
from warning.manual_cpi import as_dict, set_manual_cpi
from warning.models import CycleRun, DeliveryAttempt, FeedRun, JobRun, ManualCpi, OutboxMessage, Subscription, Task
from warning.render import render_html, render_markdown, sheet_model
from warning.subscriptions import (add_subscription, describe_subscription, may_manage, may_view, parked_counts,
                                   remove_subscription, replay_parked)
from warning.web import change_task_status, progress_for_caller, require_region, runtime
from warning.web import api_models as m
from warning.web.contract import endpoint, openapi_document, problem
from warning.web.pages import error_page

REGION_CODE = {"pattern": m.AREA_CODE}
SUBSCRIPTION_NAME = {"pattern": r"^[\w.-]{1,64}$"}
MESSAGE_ID = {"pattern": r"^msg_[0-9a-f]{32}$"}
api = Blueprint("api", __name__, url_prefix="/api/v1")


def http_error(error: HTTPException):
    """App-wide: errors under /api/ (even unknown paths, which no blueprint owns) are problem details,
    elsewhere a page in the visitor's language; a 405 keeps its Allow header."""
    if request.path.startswith(api.url_prefix + "/") or request.path == api.url_prefix:
        response = problem(error.code, error.name, error.description)
        response.headers.extend((k, v) for k, v in error.get_headers() if k == "Allow")
        return response
    return error_page(error)


def field_errors(problems: list[str]) -> list[dict]:
    """'field: message' lines as [{"field", "message"}]."""
    return [dict(zip(("field", "message"), p.split(": ", 1))) if ": " in p else {"field": "", "message": p}
            for p in problems]


@api.errorhandler(InvalidConfig)
def invalid(error: InvalidConfig):
    return problem(422, "Unprocessable Content", "the request has invalid fields", field_errors(error.problems))


def paginated(session, query, render) -> dict:
    page, per_page = g.query.page, g.query.per_page
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [render(i) for i in items], "page": page, "per_page": per_page, "total": total}


def paginated_list(items: list, render) -> dict:
    """The same page for a list already filtered in Python (by scope rules SQL cannot express)."""
    page, per_page = g.query.page, g.query.per_page
    shown = items[(page - 1) * per_page: page * per_page]
    return {"items": [render(i) for i in shown], "page": page, "per_page": per_page, "total": len(items)}


@api.get("/openapi.json")
@endpoint("This document", answers={200: None}, public=True)
def openapi():
    return openapi_document(current_app)


@api.get("/cpi/manual")
@endpoint("Hand-entered CPI figures the caller may see", query=m.Paging, answers={200: m.Page[m.ManualCpiView]})
def list_manual_cpi():
    with runtime().sessions() as session:
        query = select(ManualCpi).order_by(ManualCpi.area_code, ManualCpi.month)
        visible = [e.area_code for e in session.scalars(query) if can_see(g.user, e.area_code)]
        return paginated(session, query.where(ManualCpi.area_code.in_(visible)), as_dict)


@api.post("/cpi/manual")
@endpoint("Enter or correct one area's CPI figures for one month (audited)", body=m.ManualCpiEntry,
          answers={201: m.ManualCpiView}, errors=(403, 404))
def enter_manual_cpi():
    body = g.body.model_dump()
    if body["area_code"] not in runtime().config.area_codes:
        raise NotFound(f"no area {body['area_code']}")
    if not can_change(g.user, body["area_code"]):
        raise Forbidden(f"{g.user.name} may not enter figures for area {body['area_code']}")
    with runtime().sessions.begin() as session:
        entry = set_manual_cpi(session, runtime().config, body, g.user.name, body.pop("reason"))
        return as_dict(entry), 201


@api.get("/feed-runs")
@endpoint("Feed pulls, newest first", query=m.Paging, answers={200: m.Page[m.FeedRunView]})
def feed_runs():
    def render(run: FeedRun) -> dict:
        return {"id": run.id, "cycle_id": run.cycle_id, "feed": run.feed, "format": run.format, "source": run.source,
                "fetched_at": iso(run.fetched_at), "status": run.status, "attempts": run.attempts,
                "elapsed_ms": run.elapsed_ms, "rows": run.rows, "error": run.error, "fallback_from": run.fallback_from}
    with runtime().sessions() as session:
        return paginated(session, select(FeedRun).order_by(FeedRun.id.desc()), render)


@api.get("/cycle-runs")
@endpoint("Cycles, newest first: status, as-of time, summary with counts and stage timings", query=m.Paging,
          answers={200: m.Page[m.CycleRunView]})
def cycle_runs():
    def render(run: CycleRun) -> dict:
        return {"id": run.id, "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
                "as_of": iso(run.as_of), "scenario": run.scenario, "status": run.status, "error": run.error,
                "summary": run.summary}
    with runtime().sessions() as session:
        return paginated(session, select(CycleRun).order_by(CycleRun.started_at.desc()), render)


@api.get("/job-runs")
@endpoint("Scheduled job runs that did something or failed, per instance, newest first", query=m.JobRunQuery,
          answers={200: m.Page[m.JobRunView]})
def job_runs():
    def render(run: JobRun) -> dict:
        return {"id": run.id, "job": run.job, "instance": run.instance, "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at), "status": run.status, "counts": run.counts, "error": run.error}
    query = select(JobRun).order_by(JobRun.id.desc())
    if g.query.job:
        query = query.where(JobRun.job == g.query.job)
    with runtime().sessions() as session:
        return paginated(session, query, render)


def visible_region(view):
    """404 for an unknown county, 403 for one outside the caller's area; else the view."""
    @wraps(view)
    def wrapper(code: str, *args, **kwargs):
        require_region(code)
        return view(code, *args, **kwargs)
    return wrapper


@api.get("/regions/<code>/tasks")
@endpoint("A county's tasks", query=m.TaskQuery, answers={200: m.Page[m.TaskView]}, errors=(403, 404),
          path={"code": REGION_CODE})
@visible_region
def region_tasks(code: str):
    query = select(Task).where(Task.region_code == code).order_by(Task.due_at, Task.id)
    if g.query.status:
        query = query.where(Task.status.in_(g.query.status.split(",")))
    with runtime().sessions() as session:
        now = judged_now(session)
        return paginated(session, query, lambda t: task_data(t) | {
            "instance": t.instance, "note": t.note, "alert_id": t.alert_id, "subsidy_id": t.subsidy_id,
            "updated_by": t.updated_by, "overdue": is_overdue(t.status, t.due_at, now)})


@api.post("/tasks/<int(max=2147483647):task_id>/status")
@endpoint("Move a task on: acknowledged, in_progress, done; or not_needed with a note saying why",
          body=m.StatusChange, answers={200: m.ChangedTask}, errors=(403, 404, 409))
def task_status(task_id: int):
    try:
        with runtime().sessions.begin() as session:
            task = change_task_status(session, task_id, g.body.status, g.body.note)
            return task_data(task) | {"note": task.note, "updated_by": task.updated_by}
    except InvalidConfig as refusal:  # the body is valid (checked before): the task's state refuses the move
        return problem(409, "Conflict", "; ".join(refusal.problems))


@api.get("/regions/<code>/sheet")
@endpoint("A county's task sheet as JSON, printable A4 HTML or markdown", query=m.SheetQuery,
          answers={200: {"application/json": m.Sheet, "text/html": str, "text/markdown": str}}, errors=(403, 404),
          path={"code": REGION_CODE})
@visible_region
def region_sheet(code: str):
    lang = g.query.lang or runtime().settings.web.language
    with runtime().sessions() as session:
        model = sheet_model(session, runtime().config, code, judged_now(session), lang)
    if g.query.format == "html":
        return Response(render_html(model), content_type="text/html; charset=utf-8")
    if g.query.format == "md":
        return Response(render_markdown(model), content_type="text/markdown; charset=utf-8")
    return {k: v for k, v in model.items() if k != "labels"}


@api.get("/progress")
@endpoint("Task progress per province, prefecture or county", query=m.ProgressQuery, answers={200: m.Progress},
          errors=(403,))
def task_progress():
    return {"items": progress_for_caller(g.query.by)}


@api.get("/caseload")
@endpoint("Caseload the caller may see, as CSV", answers={200: {"text/csv": str}})
def caseload_csv():
    with runtime().sessions() as session:
        body = export_caseload(session, visible=lambda code: can_see(g.user, code))
    return Response(body, content_type="text/csv; charset=utf-8")


def csv_upload() -> tuple[dict, int]:
    if g.user.role == "viewer":
        raise Forbidden("viewers cannot change data")
    with runtime().sessions.begin() as session:
        count = import_upload(session, request.path.rsplit("/", 1)[-1], g.body, "upload.csv",
                              runtime().config.region_codes, lambda code: can_change(g.user, code), g.user.name)
    return {"imported": count}, 201


@api.post("/caseload")
@endpoint("Import caseload CSV (all rows or none; only counties in the caller's area)", body="text/csv",
          answers={201: m.Imported}, errors=(403,))
def caseload_upload():
    return csv_upload()


@api.post("/shelters")
@endpoint("Import cold-shelter CSV (replaces the lists of the counties named)", body="text/csv",
          answers={201: m.Imported}, errors=(403,))
def shelter_upload():
    return csv_upload()


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
@endpoint("Subscriptions the caller may see (no secrets; robot keys hidden), with parked counts", query=m.Paging,
          answers={200: m.Page[m.ListedSubscription]})
def list_subscriptions():
    with runtime().sessions() as session:
        counts = parked_counts(session)
        return paginated_list(visible_subscriptions(session),
                              lambda s: describe_subscription(s) | {"parked": counts.get(s.id, 0)})


@api.post("/subscriptions")
@endpoint("Add a subscription (province and county users: inside their area, county events only)",
          body=SubscriptionConfig, answers={201: m.SubscriptionView}, errors=(403,))
def create_subscription():
    fields = g.body.model_dump(exclude_unset=True)
    if not may_manage(g.user, g.body.regions, g.body.events):
        raise Forbidden(f"{g.user.name} may subscribe only to their own area's events, naming its region codes")
    with runtime().sessions.begin() as session:
        row = add_subscription(session, fields, "api", runtime().settings.delivery.allow_private_targets, g.user.name)
        session.flush()
        return describe_subscription(row), 201


@api.delete("/subscriptions/<name>")
@endpoint("Remove (disable) a subscription added by API or CLI; what it still had is parked",
          answers={200: m.Removed}, errors=(403, 404), path={"name": SUBSCRIPTION_NAME})
def delete_subscription(name: str):
    with runtime().sessions.begin() as session:
        managed_subscription(session, name)
        parked = remove_subscription(session, name, g.user.name)
    return {"removed": name, "parked": parked}


@api.post("/subscriptions/<name>/replay")
@endpoint("Queue again everything parked for this subscription (optionally since a time)", body=m.ReplayRequest,
          answers={200: m.Queued}, errors=(403, 404), path={"name": SUBSCRIPTION_NAME})
def replay_subscription(name: str):
    since = g.body.since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    with runtime().sessions.begin() as session:
        managed_subscription(session, name)
        return {"queued": replay_parked(session, g.user.name, subscription=name, since=since)}


def delivery_view(row: OutboxMessage, names: dict[int, str]) -> dict:
    return {"message_id": row.message_id, "subscription": names[row.subscription_id], "event_type": row.event_type,
            "status": row.status, "attempts": row.attempts, "created_at": iso(row.created_at),
            "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
            "delivered_at": iso(row.delivered_at), "last_error": row.last_error}


def deliveries_query(names: dict[int, str], statuses: str | None):
    """Messages of the subscriptions in `names`, newest first, of the comma-separated statuses (all if empty)."""
    query = select(OutboxMessage).where(OutboxMessage.subscription_id.in_(names)).order_by(OutboxMessage.id.desc())
    return query.where(OutboxMessage.status.in_(statuses.split(","))) if statuses else query


@api.get("/deliveries")
@endpoint("Outbox messages of the subscriptions the caller may see, newest first", query=m.DeliveryQuery,
          answers={200: m.Page[m.DeliveryView]})
def list_deliveries():
    with runtime().sessions() as session:
        names = {s.id: s.name for s in visible_subscriptions(session)}
        query = deliveries_query(names, g.query.status)
        if g.query.subscription:
            query = query.where(OutboxMessage.subscription_id.in_(
                [i for i, n in names.items() if n == g.query.subscription]))
        return paginated(session, query, lambda row: delivery_view(row, names))


def visible_delivery(session, message_id: str) -> tuple[OutboxMessage, Subscription]:
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).first()
    subscription = session.get(Subscription, row.subscription_id) if row else None
    if subscription is None or not may_view(g.user, subscription.regions):
        raise NotFound(f"no message {message_id}")
    return row, subscription


@api.get("/deliveries/<message_id>")
@endpoint("One message with its body and every attempt (time, outcome, status, latency, error)",
          answers={200: m.DeliveryDetail}, errors=(404,), path={"message_id": MESSAGE_ID})
def delivery_detail(message_id: str):
    with runtime().sessions() as session:
        row, subscription = visible_delivery(session, message_id)
        attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == row.id)
                                   .order_by(DeliveryAttempt.id)).all()
        return delivery_view(row, {subscription.id: subscription.name}) | {"data": row.data, "history": [
            {"at": iso(a.attempted_at), "outcome": a.outcome, "http_status": a.http_status,
             "latency_ms": a.latency_ms, "error": a.error} for a in attempts]}


@api.post("/deliveries/<message_id>/replay")
@endpoint("Queue one parked message again, with its original webhook-id", answers={200: m.Queued},
          errors=(403, 404, 409), path={"message_id": MESSAGE_ID})
def replay_delivery(message_id: str):
    with runtime().sessions.begin() as session:
        status = replay_message(session, message_id)
    if status != "parked":
        return problem(409, "Conflict", f"only parked messages are replayed; {message_id} is {status}")
    return {"queued": 1}


def replay_message(session, message_id: str) -> str:
    """Queue one parked message again if the caller may (404/403 otherwise); returns the status it had."""
    row, subscription = visible_delivery(session, message_id)
    managed_subscription(session, subscription.name)
    status = row.status
    if status == "parked":
        replay_parked(session, g.user.name, message_id=message_id)
    return status
