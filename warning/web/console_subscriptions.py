"""The console's subscriptions page: who receives what, whether it is getting through, and the
actions an admin (or a province admin, for their area) needs: add a webhook with a generated secret
shown once, rotate that secret with a grace period, send a test ping, replay what was parked."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for

from triggers.validation import InvalidConfig
from warning.config import COUNTY_EVENTS
from warning.delivery import send_test
from warning.web import runtime
from warning.web.api import managed_subscription, visible_subscriptions
from warning.web.pages import login_required, pages
from warning.subscriptions import (add_subscription, describe_subscription, may_manage, new_secret, parked_counts,
                                   replay_parked, rotate_secret)

GRACE_HOURS = (24, 72, 168)


def require_subscription_roles() -> None:
    if g.user.role not in ("admin", "province"):
        abort(403, "subscriptions are for admins and province admins")


def zh() -> bool:
    return g.lang == "zh"


@pages.get("/subscriptions")
@login_required
def subscriptions_page():
    require_subscription_roles()
    return render_page(shown_secret=None, problems=[], form={})


@pages.post("/subscriptions")
@login_required
def add_subscription_page():
    """A JSON, CAP or Alertmanager webhook; its secret is generated here and shown once."""
    require_subscription_roles()
    form = {key: request.form.get(key, "").strip() for key in ("name", "url", "format", "regions", "batch")}
    regions = [code for code in form["regions"].replace(",", " ").split() if code]
    fields = {"name": form["name"], "url": form["url"], "format": form["format"] or "json", "regions": regions,
              "events": list(COUNTY_EVENTS), "secrets": [new_secret()]}
    if form["batch"]:
        fields["batch"] = form["batch"]
    problems = []
    if not may_manage(g.user, regions, fields["events"]):
        problems.append("regions: 只能订阅本辖区的区划代码" if zh() else "regions: only codes of your own area")
    else:
        try:
            with runtime().sessions.begin() as db:
                add_subscription(db, fields, "console", runtime().settings.delivery.allow_private_targets, g.user.name)
        except InvalidConfig as error:
            problems = error.problems
    if problems:
        return render_page(shown_secret=None, problems=problems, form=form), 422
    return render_page(shown_secret=(form["name"], fields["secrets"][0]), problems=[], form={})


def render_page(**shown) -> str:
    with runtime().sessions() as db:
        counts = parked_counts(db)
        rows = [describe_subscription(s) | {"parked": counts.get(s.id, 0),
                                           "may_manage": may_manage(g.user, s.regions, s.events)}
                for s in visible_subscriptions(db)]
    return render_template("subscriptions.html", rows=rows, grace_hours=GRACE_HOURS, **shown)


@pages.post("/subscriptions/<name>/rotate")
@login_required
def rotate_page(name: str):
    require_subscription_roles()
    chosen = request.form.get("grace_hours", "")
    hours = next((h for h in GRACE_HOURS if str(h) == chosen), GRACE_HOURS[0])  # one of the choices offered
    try:
        with runtime().sessions.begin() as db:
            secret = rotate_secret(db, managed_subscription(db, name), g.user.name, timedelta(hours=hours))
    except InvalidConfig as error:
        return render_page(shown_secret=None, problems=error.problems, form={}), 422
    return render_page(shown_secret=(name, secret), problems=[], form={})


@pages.post("/subscriptions/<name>/test")
@login_required
def test_page(name: str):
    require_subscription_roles()
    with runtime().sessions() as db:
        row = managed_subscription(db, name)
        db.expunge(row)
    if row.channel != "webhook" or row.format != "json":
        flash("测试消息目前只发往 JSON Webhook" if zh() else "test messages go to JSON webhooks only", "error")
        return redirect(url_for("pages.subscriptions_page"))
    outcome = send_test(row, runtime().http, runtime().settings.delivery)
    status = f"HTTP {outcome.http_status}" if outcome.http_status else outcome.error
    if outcome.delivered:
        flash((f"{name}: 测试消息已送达({status},{outcome.latency_ms:.0f} 毫秒)" if zh()
               else f"{name}: the test message was accepted ({status}, {outcome.latency_ms:.0f} ms)"), "ok")
    else:
        flash((f"{name}: 测试消息未被接受:{status}" if zh() else f"{name}: the test message was not accepted: {status}"),
              "error")
    return redirect(url_for("pages.subscriptions_page"))


@pages.post("/subscriptions/<name>/replay")
@login_required
def replay_subscription_page(name: str):
    require_subscription_roles()
    try:
        with runtime().sessions.begin() as db:
            managed_subscription(db, name)
            queued = replay_parked(db, g.user.name, subscription=name)
    except InvalidConfig as error:
        flash("; ".join(error.problems), "error")
    else:
        flash((f"{name}: {queued} 条搁置消息已重新排队" if zh() else f"{name}: {queued} parked message(s) queued again"), "ok")
    return redirect(url_for("pages.subscriptions_page"))
