"""The pages people use: log in, the overview, a county's task page and its printable sheet.

Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure unless turned off for plain-HTTP
demos) that hold only the user's id and a CSRF token; every POST must carry that token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES
from triggers.tasks import ACTIVE, NEXT
from triggers.validation import InvalidConfig
from warning.accounts import (can_change, can_see, check_password, end_login_session, login_throttled, record_login,
                              start_login_session, user_of_login)
from warning.clock import judged_now
from warning.models import Alert, CycleRun, FeedStatus, Task, User
from warning.forecast_chart import region_chart
from warning.regions import has_coordinates, region_levels
from warning.render import render_html, sheet_model
from warning.web import change_task_status, require_region, runtime

pages = Blueprint("pages", __name__)
STEP_LABELS = {"zh": {"acknowledged": "接收任务", "in_progress": "开始办理", "done": "标记完成", "not_needed": "无需执行"},
               "en": {"acknowledged": "Acknowledge", "in_progress": "Start", "done": "Complete", "not_needed": "Not needed"}}
log = logging.getLogger(__name__)


@pages.before_request  # pages only: health, metrics and the API (bearer tokens) need no session
def load_visitor() -> None:
    """Who is asking and in which language; and, for any form sent to a page, a valid CSRF token."""
    chosen = request.args.get("lang")
    if chosen in ("zh", "en"):
        session["lang"] = chosen
    g.lang = session.get("lang") or runtime().settings.web.language
    g.user = None
    if session.get("login"):
        with runtime().sessions() as db:
            user = user_of_login(db, session["login"])
            if user is not None:
                db.expunge(user)
                g.user = user
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not (session.get("csrf") and hmac.compare_digest(sent, session["csrf"])):
            abort(400, "the form has expired or did not come from this site; reload the page and try again")


@pages.app_context_processor
def page_helpers() -> dict:
    return {"csrf_token": csrf_token, "t": lambda zh, en: zh if g.get("lang", "zh") == "zh" else en, "user": g.get("user"),
            "lang": g.get("lang", "zh"), "level_names": LEVEL_NAMES, "hazard_names": HAZARD_NAMES}


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def home_of(user: User) -> str:
    return url_for("pages.region", code=user.region_code) if user.role == "county" else url_for("pages.overview")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (an open redirect)."""
    return target if target and target.startswith("/") and not target.startswith("//") and "\\" not in target else None


@pages.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    if request.method == "POST":
        name, password = request.form.get("name", "").strip(), request.form.get("password", "")
        address = request.remote_addr or "unknown"
        with runtime().sessions.begin() as db:
            if login_throttled(db, name, address):
                log.warning("login for %r from %s refused: too many failures", name[:100], address)
                message = ("尝试次数过多，请 15 分钟后再试" if g.lang == "zh"
                           else "too many failed attempts; try again in 15 minutes")
                return render_template("login.html", error=message, no_users=False), 429
            user = check_password(db, name, password)
            record_login(db, name, address, succeeded=user is not None)
            if user is not None:
                token = start_login_session(db, user)
                db.flush()
                db.expunge(user)
        if user is None:
            log.warning("failed login for %r from %s", name[:100], request.remote_addr)
            error, status = ("用户名或密码不正确" if g.lang == "zh" else "wrong name or password"), 401
        else:
            language = session.get("lang")
            session.clear()  # a fresh session on login: nothing planted before it survives
            session.update(login=token, csrf=secrets.token_urlsafe(32), lang=language or g.lang)
            session.permanent = True
            log.info("login %s", user.name)
            return redirect(safe_next(request.args.get("next")) or home_of(user))
    with runtime().sessions() as db:
        no_users = db.scalar(select(func.count()).select_from(User)) == 0
    return render_template("login.html", error=error, no_users=no_users), status


@pages.post("/logout")
def logout():
    if session.get("login"):
        with runtime().sessions.begin() as db:
            end_login_session(db, session["login"])
    session.clear()
    return redirect(url_for("pages.login"))


@pages.get("/")
@login_required
def overview():
    if g.user.role == "county":
        return redirect(home_of(g.user))
    zone = ZoneInfo(runtime().settings.feeds.timezone)
    regions = runtime().config.regions_by_code
    with runtime().sessions() as db:
        last = db.scalars(select(CycleRun).order_by(CycleRun.started_at.desc()).limit(1)).first()
        alerts = [a for a in db.scalars(select(Alert).where(Alert.status == "open")) if can_see(g.user, a.region_code)]
        feeds = list(db.scalars(select(FeedStatus).order_by(FeedStatus.feed)))
        open_tasks = dict(db.execute(select(Task.region_code, func.count()).where(Task.status.in_(ACTIVE))
                                     .group_by(Task.region_code)).all())
        levels = region_levels(db)
    order = {level: i for i, level in enumerate(reversed(COLOUR_LEVELS))}
    alerts.sort(key=lambda a: (order.get(a.level, 9), a.region_code))
    rows = [{"code": a.region_code, "name": regions[a.region_code]["name"],
             "prefecture": regions[a.region_code]["prefecture_name"], "hazard": HAZARD_NAMES[a.hazard][g.lang],
             "level": a.level, "level_name": LEVEL_NAMES[a.level][g.lang],
             "onset": a.onset.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "stage": a.stage,
             "evidence": a.evidence[g.lang], "tasks": open_tasks.get(a.region_code, 0)} for a in alerts]
    return render_template("overview.html", rows=rows, last=last, zone=zone, feeds=feeds, **level_grid(levels))


def level_grid(levels: dict[str, dict]) -> dict:
    """Every county the visitor may see, by province, coloured by its highest open level; and the counts."""
    provinces: dict[str, dict] = {}
    counts = dict.fromkeys((*reversed(COLOUR_LEVELS), "none"), 0)
    for code, region in runtime().config.regions_by_code.items():
        if not can_see(g.user, code):
            continue
        level = levels.get(code, {}).get("level")
        counts[level or "none"] += 1
        province = provinces.setdefault(region["province_code"], {"name": region["province_name"], "cells": []})
        province["cells"].append({"code": code, "name": region["name"], "level": level or "none",
                                  "assessed": has_coordinates(region)})
    return {"grid": [provinces[code] for code in sorted(provinces)], "counts": counts}


@pages.get("/regions/<code>")
@login_required
def region(code: str):
    require_region(code)
    rt = runtime()
    rt.refresh_rules()
    zone = ZoneInfo(rt.config.regions_by_code[code]["timezone"])
    with rt.sessions() as db:
        model = sheet_model(db, rt.config, code, judged_now(db), g.lang)
        chart = region_chart(db, rt.config, rt.config.rules, code, g.lang)
        history = db.scalars(select(Alert).where(Alert.region_code == code)
                             .order_by(Alert.issued_at.desc(), Alert.id.desc()).limit(50)).all()
    return render_template("region.html", sheet=model, next_steps=NEXT, step_labels=STEP_LABELS[g.lang],
                           may_change=can_change(g.user, code), chart=chart, history=history, zone=zone)


@pages.get("/regions/<code>/sheet")
@login_required
def printable_sheet(code: str):
    require_region(code)
    with runtime().sessions() as db:
        return render_html(sheet_model(db, runtime().config, code, judged_now(db), g.lang))


@pages.post("/tasks/<int(max=2147483647):task_id>/status")
@login_required
def change_task(task_id: int):
    with runtime().sessions.begin() as db:
        try:
            code = change_task_status(db, task_id, request.form.get("status", ""), request.form.get("note")).region_code
        except InvalidConfig as error:  # refused before anything changed
            code = db.get(Task, task_id).region_code
            flash(" ".join(p.removeprefix("status: ") for p in error.problems), "error")
        else:
            flash("已更新" if g.lang == "zh" else "updated", "ok")
    return redirect(url_for("pages.region", code=code) + f"#task-{task_id}")
