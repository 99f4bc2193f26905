"""The verification page: how each daily trigger scored against what later cycles saw, with the
reliability diagram and POD / FAR by lead day drawn on the server."""

from __future__ import annotations

from datetime import date

from flask import g, render_template, request

from triggers.ensemble import LEVELS_OF
from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES
from triggers.validation import InvalidConfig
from triggers.verification import brier_table, contingency_table, lead_table, reliability_table
from warning.verification import BEIJING, SOURCE_NAMES, Query, beijing_days, is_province_code, rows_of, scored
from warning.verification_chart import lead_svg, reliability_svg
from warning.web import runtime
from warning.web.pages import login_required, pages, said

CHART_WORDS = {
    "zh": {"reliability": "可靠性图", "forecast_probability": "预报概率(集合成员占比)", "observed_frequency": "实际发生频率",
           "lead_chart": "各提前天数的命中率与空报率", "lead_days": "提前天数"},
    "en": {"reliability": "Reliability diagram", "forecast_probability": "forecast probability (share of members)",
           "observed_frequency": "observed frequency", "lead_chart": "POD and FAR by lead day", "lead_days": "lead (days)"},
}


@pages.get("/verification")
@login_required
def verification_page():
    problem = None
    try:
        query = chosen_query()
    except InvalidConfig as error:
        problem, query = "; ".join(error.problems), Query()
    hazard = request.args.get("hazard") if request.args.get("hazard") in LEVELS_OF else next(iter(LEVELS_OF))
    level = request.args.get("level") if request.args.get("level") in COLOUR_LEVELS else "blue"
    with runtime().sessions() as session:
        records, observed, scores = scored(session, query)
    model = {"cycles": len(records), "observations": observed, "hazard": hazard, "level": level, "query": request.args,
             "first": min((r.as_of for r in records), default=None), "last": max((r.as_of for r in records), default=None)}
    if scores is not None:
        totals = rows_of(contingency_table(scores, ("source", "hazard", "level"), query.province))
        by_lead = [r for r in rows_of(contingency_table(scores, ("source", "hazard", "level", "lead_d"), query.province))
                   if r["hazard"] == hazard and r["level"] == level]
        reliability = [r for r in rows_of(reliability_table(scores)) if r["hazard"] == hazard]
        model |= {"totals": totals, "leads": rows_of(lead_table(scores, province=query.province)),
                  "brier": rows_of(brier_table(scores, ("hazard", "level"), query.province)),
                  "lead_chart": lead_svg(by_lead, {k: v[g.lang] for k, v in SOURCE_NAMES.items()}, CHART_WORDS[g.lang]),
                  "reliability_chart": reliability_svg(reliability, {k: v[g.lang] for k, v in LEVEL_NAMES.items()},
                                                       CHART_WORDS[g.lang]) if reliability else None}
    return render_template("verification.html", model=model, problem=problem, hazards=list(LEVELS_OF),
                           levels=COLOUR_LEVELS, source_names={k: v[g.lang] for k, v in SOURCE_NAMES.items()},
                           local=lambda t: t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
                           hazard_label=lambda h: HAZARD_NAMES[h][g.lang]), 422 if problem else 200


def chosen_query() -> Query:
    """The period (Beijing days) and province asked for; InvalidConfig naming a field that is wrong."""
    since, until = (day_of(request.args.get(name), name) for name in ("since", "until"))
    province = request.args.get("province") or None
    if province is not None and not is_province_code(province):
        raise InvalidConfig([said(f"province:不是省级代码(如 220000):{province!r}",
                                  f"province: not a province code (as 220000): {province!r}")])
    if since and until and since > until:
        raise InvalidConfig([said("since:起始日期晚于截止日期", "since: comes after until")])
    return Query(*beijing_days(since, until), province=province)


def day_of(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidConfig([said(f"{name}:不是日期(应为 YYYY-MM-DD):{text!r}",
                                  f"{name}: not a date (YYYY-MM-DD): {text!r}")]) from None
