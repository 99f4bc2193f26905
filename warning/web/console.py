"""The admin console pages: the audit log, deliveries with replay, task progress and caseload
upload (the rules pages are in console_rules). Same sessions, CSRF and scope as the other pages."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from triggers.validation import InvalidConfig
from warning.accounts import can_change
from warning.caseload import COLUMNS, LABELS, checked_rows, import_upload, upload_changes, upload_template
from warning.csvtable import decode
from warning.web import progress_for_caller, runtime
from warning.web.api import deliveries_query, delivery_view, replay_message, visible_subscriptions
from warning.web.api_rules import audit_query, audit_view
from warning.web.pages import login_required, page_number, pages

PER_PAGE = 50


def require_roles(*roles: str) -> None:
    if g.user.role not in roles:
        abort(403, "this page is not for your role")


def one_page(session, query) -> tuple[list, int, int]:
    """The rows of the requested page, that page's number and the number of pages."""
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = page_number()
    return session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all(), page, max(1, -(-total // PER_PAGE))


@pages.get("/audit")
@login_required
def audit_page():
    require_roles("admin", "viewer")
    with runtime().sessions() as db:
        rows, page, pages_count = one_page(db, audit_query(request.args.get("actor"), request.args.get("action")))
        entries = [audit_view(r) for r in rows]
    return render_template("audit.html", entries=entries, page=page, pages_count=pages_count)


@pages.get("/deliveries")
@login_required
def deliveries_page():
    status = request.args.get("status", "")
    if status not in ("pending", "delivered", "parked"):
        status = ""
    with runtime().sessions() as db:
        names = {s.id: s.name for s in visible_subscriptions(db)}
        rows, page, pages_count = one_page(db, deliveries_query(names, status))
        messages = [delivery_view(r, names) for r in rows]
    return render_template("deliveries.html", messages=messages, status=status, page=page, pages_count=pages_count,
                           may_replay=g.user.role != "viewer")


@pages.post("/deliveries/<message_id>/replay")
@login_required
def replay_page(message_id: str):
    with runtime().sessions.begin() as db:
        status = replay_message(db, message_id)
    if status == "parked":
        flash(("已重新排队: " if g.lang == "zh" else "queued again: ") + message_id, "ok")
    else:
        flash((f"只有搁置的消息可以重发，此消息状态为 {status}" if g.lang == "zh"
               else f"only parked messages are replayed; this one is {status}"), "error")
    return redirect(url_for("pages.deliveries_page", status=request.args.get("status", "")))


@pages.get("/progress")
@login_required
def progress_page():
    by = request.args.get("by", "province" if g.user.role != "province" else "prefecture")
    try:
        rows = progress_for_caller(by)
    except InvalidConfig:
        abort(404)
    return render_template("progress.html", rows=rows, by=by)


@pages.get("/caseload")
@login_required
def caseload_page():
    require_roles("admin", "province", "county")
    return render_template("caseload.html", problems=[], preview=None)


@pages.get("/caseload/template.csv")
@login_required
def caseload_template():
    """The file to fill in: Chinese headers, a row per county the user may change, today's figures."""
    require_roles("admin", "province", "county")
    kind = request.args.get("kind") if request.args.get("kind") in COLUMNS else "caseload"
    counties = [r for r in runtime().config.regions_by_code.values() if can_change(g.user, r["code"])]
    with runtime().sessions() as db:
        body = upload_template(db, kind, counties)
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={kind}-template.csv"})


@pages.post("/caseload")
@login_required
def caseload_upload():
    """First a preview of what the file would change (nothing is stored); then, confirmed, the import."""
    require_roles("admin", "province", "county")
    kind, confirmed = request.form.get("kind"), request.form.get("step") == "commit"
    upload = request.files.get("file")
    if kind not in COLUMNS or not (confirmed or (upload and upload.filename)):
        problems = ["请选择文件和类型" if g.lang == "zh" else "choose a file and what it holds"]
        return render_template("caseload.html", problems=problems, preview=None), 400
    filename = request.form.get("filename", "upload.csv") if confirmed else upload.filename
    rt, in_scope = runtime(), (lambda code: can_change(g.user, code))
    try:
        content = request.form.get("content", "") if confirmed else decode(upload.read(), filename)
        if confirmed:
            with rt.sessions.begin() as db:
                count = import_upload(db, kind, content, filename, rt.config.region_codes, in_scope, g.user.name)
            flash((f"已导入 {count} 行" if g.lang == "zh" else f"imported {count} rows"), "ok")
            return redirect(url_for("pages.caseload_page"))
        rows = checked_rows(content, filename, kind, rt.config.region_codes, in_scope)
        with rt.sessions() as db:
            changes = upload_changes(db, kind, rows)
    except InvalidConfig as error:
        return render_template("caseload.html", problems=error.problems, preview=None), 422
    names = rt.config.regions_by_code
    preview = {"kind": kind, "filename": filename, "content": content, "rows": len(rows),
               "changes": [c | {"name": names[c["code"]]["name"]} for c in changes]}
    return render_template("caseload.html", problems=[], preview=preview, labels=LABELS)
