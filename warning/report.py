"""The outcome report a department files upward: for an area and a period, its totals and each area
below it (period and campaign), as text in the style of a 民政 progress report (Jinja2 templates in
report_templates/) and as an Excel workbook laid out as report tables are."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from jinja2 import Environment, PackageLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy.orm import Session

from triggers.regioncodes import NATION, area_prefix
from warning.config import AppConfig
from warning.outcomes import Period, rollup

CHILD_LEVEL = {"nation": "province", "province": "prefecture", "prefecture": "county", "county": "county"}
TEXTS = Environment(loader=PackageLoader("warning", "report_templates"), undefined=StrictUndefined,
                    keep_trailing_newline=False, autoescape=False)  # plain text, never HTML


def level_of(area: str) -> str:
    if area == NATION:
        return "nation"
    return "province" if area.endswith("0000") else "prefecture" if area.endswith("00") else "county"


@dataclass(frozen=True)
class Line:
    measure: str
    name: str
    unit: str
    period: int
    campaign: int


def report_model(session: Session, config: AppConfig, area: str, start: date, until: date, lang: str) -> dict:
    """Everything the report shows, in one language: the area's lines and each area below it."""
    campaign = config.playbook.campaign_on(until)
    period = Period(start, until, campaign.start if campaign else None)
    within = None if area == NATION else area_prefix(area)
    level = level_of(area)
    whole = rollup(session, config, level, period, within)
    parts = rollup(session, config, CHILD_LEVEL[level], period, within) if level != "county" else []
    names = config.area_names
    return {
        "lang": lang, "area": area, "area_name": ("全国" if lang == "zh" else "China") if area == NATION else names[area],
        "start": start, "until": until, "campaign": campaign.name.model_dump()[lang] if campaign else None,
        "since": campaign.start if campaign else None, "lines": lines(config, whole, lang),
        "counties_reported": max((r["counties_reported"] for r in whole), default=0),
        "parts": [{"area": code, "name": names.get(code, code), "lines": lines(config, [r for r in parts if r["area"] == code], lang),
                   "counties_reported": max(r["counties_reported"] for r in parts if r["area"] == code)}
                  for code in dict.fromkeys(r["area"] for r in parts)]}


def lines(config: AppConfig, rows: list[dict], lang: str) -> list[Line]:
    measures = config.playbook.measures
    return [Line(r["measure"], getattr(measures[r["measure"]].name, lang), getattr(measures[r["measure"]].unit, lang),
                 r["period"], r["campaign"]) for r in rows if r["measure"] in measures]


def wan(number: int) -> str:
    """As a Chinese report writes it: 4370, 1.5万, 34.8万, 3254万."""
    if number < 10_000:
        return str(number)
    shown = f"{number / 10_000:.1f}".removesuffix(".0")
    return f"{shown}万"


def report_text(model: dict) -> str:
    return TEXTS.get_template(f"outcomes.{model['lang']}.txt").render(model, wan=wan).strip() + "\n"


HEADINGS = {"zh": ("单位", "指标", "计量单位", "本期", "累计", "报送县数"),
            "en": ("Area", "Measure", "Unit", "This period", "Cumulative", "Counties reporting")}


def report_workbook(model: dict) -> bytes:
    """One sheet: a title, the period, then per area (the whole first) a row per measure."""
    zh = model["lang"] == "zh"
    book = Workbook()
    sheet = book.active
    sheet.title = "工作量统计" if zh else "Outcomes"
    title = (f"{model['area_name']}{model['campaign'] or '防寒救助'}工作量统计表" if zh
             else f"{model['area_name']}: {model['campaign'] or 'cold-weather relief'}, outcomes")
    span = (f"统计时段：{model['start']} 至 {model['until']}" + (f"；累计自 {model['since']} 起" if model["since"] else "")
            if zh else f"Period: {model['start']} to {model['until']}"
            + (f"; cumulative from {model['since']}" if model["since"] else ""))
    sheet.append([title])
    sheet.append([span])
    sheet.append([])
    sheet.append(list(HEADINGS[model["lang"]]))
    for cell in (sheet["A1"], *sheet[4]):
        cell.font = Font(bold=True)
    whole = {"name": ("合计：" if zh else "Total: ") + model["area_name"], "lines": model["lines"],
             "counties_reported": model["counties_reported"]}
    for part in [whole, *model["parts"]]:
        for line in part["lines"]:
            sheet.append([part["name"], line.name, line.unit, line.period, line.campaign, part["counties_reported"]])
    for column, width in zip("ABCDEF", (22, 24, 10, 12, 12, 12)):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=5, min_col=4, max_col=6):
        for cell in row:
            cell.alignment = Alignment(horizontal="right")
    sheet.freeze_panes = "A5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
