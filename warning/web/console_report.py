"""The report page: an area's outcome figures for a period and its campaign, each area below it, a
chart of one measure day by day, the report text, and the Excel workbook to file upward."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, g, render_template, request
from markupsafe import Markup

from triggers.regioncodes import area_prefix
from warning.accounts import can_see, own_area
from warning.models import utcnow
from warning.outcomes import REPORT_ZONE, Period, daily, flagged
from warning.report import NATION, report_model, report_text, report_workbook
from warning.web import runtime
from warning.web.pages import login_required, pages, said

DEFAULT_DAYS = 7
MAX_DAYS = 400


@pages.get("/report")
@login_required
def report_page():
    area, start, until, problem = chosen()
    rt = runtime()
    with rt.sessions() as db:
        model = report_model(db, rt.config, area, start, until, g.lang)
        measures = [line.measure for line in model["lines"]] or list(rt.config.playbook.measures)
        measure = request.args.get("measure") if request.args.get("measure") in rt.config.playbook.measures else measures[0]
        within = None if area == NATION else area_prefix(area)
        series = daily(db, measure, Period(start, until), within)
        reviews = [review_row(report, rt.config) for report in flagged(db, Period(start, until), within)]
    names = {key: getattr(m.name, g.lang) for key, m in rt.config.playbook.measures.items()}
    return render_template("report.html", model=model, text=report_text(model), problem=problem, measure=measure,
                           measures=measures, measure_names=names, chart=bars(series), reviews=reviews,
                           query={"area": area, "start": start.isoformat(), "until": until.isoformat()}), \
        422 if problem else 200


@pages.get("/report.xlsx")
@login_required
def report_workbook_download():
    area, start, until, problem = chosen()
    if problem:
        abort(422, problem)
    rt = runtime()
    with rt.sessions() as db:
        model = report_model(db, rt.config, area, start, until, g.lang)
    name = f"outcomes-{area}-{start}-{until}.xlsx"
    return Response(report_workbook(model), headers={"Content-Disposition": f'attachment; filename="{name}"'},
                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def review_row(report, config) -> dict:
    """A flagged figure, said: where, which task and measure, the figure, and why it is flagged."""
    kind, limit = report.review.split(":", 1)
    measure = config.playbook.measures.get(report.measure)
    why = (said(f"低于此前报送的 {limit}（按更正记录）", f"below the {limit} reported before (kept as a correction)")
           if kind == "lower_than_before" else
           said(f"高于名册可能的 {limit}", f"above the {limit} the caseload makes plausible"))
    return {"region": config.area_names.get(report.region_code, report.region_code), "code": report.region_code,
            "task_id": report.task_id, "measure": getattr(measure.name, g.lang) if measure else report.measure,
            "value": report.value, "why": why, "by": report.reported_by}


def chosen() -> tuple[str, date, date, str | None]:
    """The area (the caller's own unless a visible one is asked for) and the local days asked for;
    what was wrong with them, if anything, with the defaults used instead."""
    user = g.user
    own = own_area(user)
    today = utcnow().astimezone(ZoneInfo(REPORT_ZONE)).date()
    area, problem = request.args.get("area", own) or own, None
    if area != NATION and (area not in runtime().config.area_codes or not can_see(user, area)):
        area, problem = own, said("没有这个地区或无权查看，已显示本辖区", "no such area, or not yours: your own is shown")
    try:
        until = date.fromisoformat(request.args.get("until") or today.isoformat())
        start = date.fromisoformat(request.args.get("start") or (until - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
        if not timedelta(0) <= until - start <= timedelta(days=MAX_DAYS):
            raise ValueError
    except ValueError:
        until, start = today, today - timedelta(days=DEFAULT_DAYS - 1)
        problem = said(f"日期须为 YYYY-MM-DD，起日不晚于止日，跨度不超过 {MAX_DAYS} 天；已显示最近 {DEFAULT_DAYS} 天",
                       f"dates are YYYY-MM-DD, the start not after the end, at most {MAX_DAYS} days apart; "
                       f"the last {DEFAULT_DAYS} days are shown")
    return area, start, until, problem


def bars(series: list[tuple[date, int]]) -> Markup:
    """The measure day by day as an SVG bar chart, drawn here (no script, no CDN)."""
    width, height, left, bottom = 640, 180, 40, 24
    top = max((value for _, value in series), default=0) or 1
    step = (width - left) / max(len(series), 1)
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{said("每日数量", "per day")}">',
             f'<text x="0" y="12" class="muted">{top}</text><line x1="{left}" y1="{height - bottom}" x2="{width}" '
             f'y2="{height - bottom}" stroke="#999"/>']
    for index, (day, value) in enumerate(series):
        bar = (height - bottom - 16) * value / top
        x = left + index * step
        parts.append(f'<rect x="{x + 1:.1f}" y="{height - bottom - bar:.1f}" width="{max(step - 2, 1):.1f}" '
                     f'height="{bar:.1f}" fill="#12355b" data-day="{day}" data-value="{value}"><title>{day}: {value}</title></rect>')
        if len(series) <= 14 or index % max(len(series) // 10, 1) == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="10">'
                         f'{day.month}/{day.day}</text>')
    return Markup("".join(parts) + "</svg>")
