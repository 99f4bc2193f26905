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

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES, LEVEL_RANK
from triggers.tasks import ACTIVE, NEXT, STATUS_NAMES
from triggers.validation import InvalidConfig
from warning.accounts import (can_change, can_see, check_password, end_login_session, login_throttled, record_login,
                              start_login_session, user_of_login)
from warning.clock import judged_now
from warning.models import Alert, CycleRun, FeedStatus, Task, User, utcnow
from warning.outcomes import figures_of_tasks, record_figures
from warning.outcomes import said as said_figures
from warning.forecast_chart import region_chart
from warning.verification import region_probabilities
from warning.regions import has_coordinates, region_levels
from warning.render import render_html, sheet_model
from warning.web import change_task_status, changeable_task, require_region, runtime
from warning.web.api_models import MAX_PAGE
from warning.web.country_map import assessed_codes, country_map, state_of
from warning.web.words import ACTIONS, FEEDS, SOURCES, SYSTEM_REASONS, changes, word

pages = Blueprint("pages", __name__)
STEP_LABELS = {"zh": {"acknowledged": "接收任务", "in_progress": "开始办理", "done": "标记完成", "not_needed": "无需执行"},
               "en": {"acknowledged": "Acknowledge", "in_progress": "Start", "done": "Complete", "not_needed": "Not needed"}}
log = logging.getLogger(__name__)


@pages.before_request  # pages only: health, metrics and the API (bearer tokens) need no session
def load_visitor() -> None:
    """Who is asking and in which language; and, for any form sent to a page, a valid CSRF token."""
    chosen = request.args.get("lang")
    if chosen in ("zh", "en") and request.endpoint != "pages.printable_sheet":
        session["lang"] = chosen  # a sheet printed in the other language does not switch the console
    g.lang = (chosen if chosen in ("zh", "en") else None) or session.get("lang") or runtime().settings.web.language
    g.user = visitor()
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not (session.get("csrf") and hmac.compare_digest(sent, session["csrf"])):
            abort(400, "the form has expired or did not come from this site; reload the page and try again")


def visitor() -> User | None:
    """The logged-in user of this browser session, if any."""
    if not session.get("login"):
        return None
    with runtime().sessions() as db:
        user = user_of_login(db, session["login"])
        if user is not None:
            db.expunge(user)
        return user


ERROR_WORDS = {
    400: (("请求无效", "表单可能已过期或不是从本站提交的,请刷新页面后重试。"),
          ("Bad request", "The form may have expired or did not come from this site: reload the page and try again.")),
    403: (("无权访问", "您的账号无权查看或修改此内容。"), ("Not allowed", "Your account may not see or change this.")),
    404: (("找不到页面", "没有这个页面或地区,或您无权查看。"), ("Not found", "No such page or region, or not one you may see.")),
    405: (("不支持此操作", "此页面不接受这种请求。"), ("Not supported", "This page does not take that kind of request.")),
    413: (("文件过大", "上传的文件太大,请分成几份上传。"), ("Too large", "The upload is too large: send it in parts.")),
    429: (("尝试次数过多", "请稍后再试。"), ("Too many attempts", "Please try again later.")),
    500: (("服务器出错", "错误已记录,请稍后重试;如反复出现,请联系管理员。"),
          ("Server error", "The error was logged; try again later, and tell your administrator if it recurs.")),
}


def error_page(error):
    """An error on a page: the console's navigation and the visitor's language, not a bare server page."""
    if "lang" not in g:  # unknown paths and failures before the pages' own set-up
        g.lang = session.get("lang") or runtime().settings.web.language
    if "user" not in g:
        try:
            g.user = visitor()
        except Exception:  # the database may be what failed: the page goes out without the user's name
            g.user = None
    zh, en = ERROR_WORDS.get(error.code, ((error.name, ""), (error.name, "")))
    heading, message = zh if g.lang == "zh" else en
    response = make_response(render_template("error.html", code=error.code, heading=heading, message=message),
                             error.code)
    response.headers.extend((k, v) for k, v in error.get_headers() if k == "Allow")
    return response


@pages.app_context_processor
def page_helpers() -> dict:
    lang = g.get("lang", "zh")
    return {"csrf_token": csrf_token, "t": lambda zh, en: zh if lang == "zh" else en, "user": g.get("user"),
            "lang": lang, "level_names": LEVEL_NAMES, "hazard_names": HAZARD_NAMES,
            "action_words": lambda code: word(ACTIONS, code, lang), "feed_words": lambda code: word(FEEDS, code, lang),
            "reason_words": lambda text: word(SYSTEM_REASONS, text, lang),
            "source_words": lambda code: word(SOURCES, code, lang), "changes": changes}


def said(zh: str, en: str) -> str:
    """The words in the reader's language."""
    return zh if g.lang == "zh" else en


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


OVERVIEW_PER_PAGE = 50


@pages.get("/")
@login_required
def overview():
    if g.user.role == "county":
        return redirect(home_of(g.user))
    rt = runtime()
    zone = ZoneInfo(rt.settings.feeds.timezone)
    regions = rt.config.regions_by_code
    visible = [region for region in regions.values() if can_see(g.user, region["code"])]
    with rt.sessions() as db:
        last = db.scalars(select(CycleRun).order_by(CycleRun.started_at.desc()).limit(1)).first()
        alerts = [a for a in db.scalars(select(Alert).where(Alert.status == "open")) if can_see(g.user, a.region_code)]
        feeds = list(db.scalars(select(FeedStatus).order_by(FeedStatus.feed)))
        open_tasks = dict(db.execute(select(Task.region_code, func.count()).where(Task.status.in_(ACTIVE))
                                     .group_by(Task.region_code)).all())
        states = region_states(visible, region_levels(db), assessed_codes(db))
    filters = chosen_filters(visible)
    rows = county_rows(alerts, regions, open_tasks, zone, filters)
    page = page_number()
    extra = "".join(f"&{key}={value}" for key, value in filters.items() if value)
    return render_template(
        "overview.html", rows=rows[(page - 1) * OVERVIEW_PER_PAGE: page * OVERVIEW_PER_PAGE], total=len(rows),
        page=page, pages_count=max(1, -(-len(rows) // OVERVIEW_PER_PAGE)), extra=extra, filters=filters,
        provinces=sorted({(r["province_code"], r["province_name"]) for r in visible}), last=last, zone=zone,
        feeds=feeds, counts=state_counts(visible, states), map=country_map(list(regions.values()), visible, states),
        state_names=state_names())


def region_states(visible: list[dict], levels: dict[str, dict], assessed: set[str]) -> dict[str, str]:
    return {region["code"]: state_of(region["code"], levels, assessed) for region in visible}


def state_counts(visible: list[dict], states: dict[str, str]) -> dict[str, int]:
    """Counties by state; `assessed` counts every county the newest cycle had a forecast for."""
    counts = dict.fromkeys((*COLOUR_LEVELS, "clear", "unassessed"), 0)
    for state in states.values():
        counts[state] += 1
    counts["assessed"] = len(states) - counts["unassessed"]
    counts["unplaced"] = sum(not has_coordinates(region) for region in visible)
    return counts


def state_names() -> dict[str, str]:
    zh = g.lang == "zh"
    return {level: LEVEL_NAMES[level][g.lang] for level in COLOUR_LEVELS} | {
        "clear": "已评估,无预警" if zh else "assessed, no alert",
        "unassessed": "未评估(本轮无预报)" if zh else "not assessed (no forecast this cycle)"}


def chosen_filters(visible: list[dict]) -> dict[str, str]:
    """The list's filters from the query; a value that is not one of the choices is dropped."""
    choices = {"province": {region["province_code"] for region in visible}, "level": set(COLOUR_LEVELS),
               "hazard": set(HAZARD_NAMES)}
    return {key: value if (value := request.args.get(key, "")) in allowed else "" for key, allowed in choices.items()}


def county_rows(alerts: list[Alert], regions: dict, open_tasks: dict, zone: ZoneInfo, filters: dict) -> list[dict]:
    """One row per county with open alerts, its hazards together, the most urgent first."""
    by_county: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_county.setdefault(alert.region_code, []).append(alert)
    rows = []
    for code, found in by_county.items():
        found.sort(key=lambda a: (-LEVEL_RANK[a.level], a.hazard))
        region, top = regions[code], found[0].level
        if ((filters["province"] and region["province_code"] != filters["province"])
                or (filters["level"] and top != filters["level"])
                or (filters["hazard"] and all(a.hazard != filters["hazard"] for a in found))):
            continue
        rows.append({"code": code, "name": region["name"], "prefecture": region["prefecture_name"],
                     "province": region["province_name"], "level": top, "tasks": open_tasks.get(code, 0),
                     "onset": min(a.onset for a in found).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                     "alerts": [{"hazard": HAZARD_NAMES[a.hazard][g.lang], "level": a.level,
                                 "level_name": LEVEL_NAMES[a.level][g.lang]} for a in found]})
    rows.sort(key=lambda row: (-LEVEL_RANK[row["level"]], row["code"]))
    return rows


def page_number() -> int:
    """The requested page, kept within 1..MAX_PAGE (a larger offset would overflow the database's integers)."""
    try:
        return min(max(1, int(request.args.get("page", 1))), MAX_PAGE)
    except ValueError:
        return 1


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
        probabilities = region_probabilities(db, code)
        history = db.scalars(select(Alert).where(Alert.region_code == code)
                             .order_by(Alert.issued_at.desc(), Alert.id.desc()).limit(50)).all()
        figures = figures_of_tasks(db, [t["id"] for t in model["tasks"]])
    return render_template("region.html", sheet=model, next_steps=NEXT, step_labels=STEP_LABELS[g.lang],
                           may_change=can_change(g.user, code), chart=chart, probabilities=probabilities,
                           history=history, zone=zone,
                           figures=figures, measures=rt.config.playbook.measures,
                           measures_of=rt.config.playbook.measures_of)


@pages.post("/tasks/<int(max=2147483647):task_id>/outcomes")
@login_required
def report_task_outcomes(task_id: int):
    """Figures typed on the county page: each box a running total; a box left empty is not reported."""
    rt = runtime()
    typed = {key[2:]: value.strip() for key, value in request.form.items() if key.startswith("m.") and value.strip()}
    unreadable = [key for key, value in typed.items() if not value.isdigit()]
    with rt.sessions.begin() as db:
        task = changeable_task(db, task_id)
        if unreadable or not typed:
            names = "、".join(rt.config.playbook.measures[k].name.zh if k in rt.config.playbook.measures else k
                             for k in unreadable) if g.lang == "zh" else ", ".join(unreadable)
            flash(said(f"请填写从 0 起的整数：{names}" if unreadable else "请至少填写一项工作量",
                       f"enter whole numbers from 0: {names}" if unreadable else "fill in at least one figure"),
                  f"task-{task_id}")
        else:
            try:
                recorded = record_figures(db, rt.config, task, {k: int(v) for k, v in typed.items()}, g.user.name,
                                          "console", utcnow())
                flash(said_figures(rt.config, recorded)[g.lang], f"task-{task_id}-ok")
            except InvalidConfig:
                flash(said("这些不是此任务的工作量项目", "these are not this task's measures"), f"task-{task_id}")
        code = task.region_code
    return redirect(url_for("pages.region", code=code) + f"#task-{task_id}")


@pages.get("/regions/<code>/sheet")
@login_required
def printable_sheet(code: str):
    require_region(code)
    with runtime().sessions() as db:
        return render_html(sheet_model(db, runtime().config, code, judged_now(db), g.lang))


def refusal(current: str, wanted: str, note: str | None) -> str:
    """Why the lifecycle refuses a move, in the visitor's language."""
    names = STATUS_NAMES[g.lang]
    if wanted == "not_needed" and wanted in NEXT[current] and not (note or "").strip():
        return "请在备注中写明为何无需执行。" if g.lang == "zh" else "Say in the note why the task is not needed."
    if g.lang == "zh":
        allowed = "、".join(names[s] for s in NEXT[current]) or "无,任务已结束"
        return f"此任务当前为“{names[current]}”,不能改为“{names.get(wanted, wanted)}”(可改为:{allowed})。"
    allowed = ", ".join(names[s] for s in NEXT[current]) or "none: the task is closed"
    return f"A task that is {names[current]} cannot become {names.get(wanted, wanted)} (allowed: {allowed})."


@pages.post("/tasks/<int(max=2147483647):task_id>/status")
@login_required
def change_task(task_id: int):
    with runtime().sessions.begin() as db:
        try:
            code = change_task_status(db, task_id, request.form.get("status", ""), request.form.get("note")).region_code
        except InvalidConfig:  # refused before anything changed; said beside the task, not above the page
            task = db.get(Task, task_id)
            code = task.region_code
            flash(refusal(task.status, request.form.get("status", ""), request.form.get("note")), f"task-{task_id}")
        else:
            flash("已更新" if g.lang == "zh" else "updated", "ok")
    return redirect(url_for("pages.region", code=code) + f"#task-{task_id}")
