"""A county's task sheet: one content model, rendered as printable A4 HTML, markdown or JSON."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES
from triggers.tasks import ACTIVE, STATUS_NAMES, is_overdue
from warning.config import AppConfig
from warning.models import Alert, Subsidy, Task

LABELS = {
    "zh": {"title": "防寒救助任务单", "region": "地区", "generated": "生成时间", "alerts": "当前预警", "tasks": "任务",
           "due": "完成时限", "role": "责任科室", "status": "状态", "overdue": "已逾期", "none": "无",
           "shelters": "庇寒场所", "capacity": "床位", "subsidy": "价格临时补贴", "onset": "开始",
           "sign": "负责人签字", "date": "日期", "done_by": "完成情况"},
    "en": {"title": "Cold-weather relief task sheet", "region": "Region", "generated": "Generated", "alerts": "Alerts in force",
           "tasks": "Tasks", "due": "Due", "role": "Responsible", "status": "Status", "overdue": "OVERDUE", "none": "None",
           "shelters": "Cold shelters", "capacity": "places", "subsidy": "Temporary price subsidy", "onset": "from",
           "sign": "Signed (officer in charge)", "date": "Date", "done_by": "Done"},
}
ENVIRONMENT = Environment(loader=PackageLoader("warning.web", "templates"),
                          autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def sheet_model(session: Session, config: AppConfig, region_code: str, now: datetime, lang: str = "zh") -> dict:
    """Everything a county's sheet shows, in the county's language and local time."""
    region = config.regions_by_code[region_code]
    zone = ZoneInfo(region["timezone"])
    order = {level: i for i, level in enumerate(reversed(COLOUR_LEVELS))}
    alerts = sorted(session.scalars(select(Alert).where(Alert.region_code == region_code, Alert.status == "open")),
                    key=lambda a: (order.get(a.level, 9), a.hazard))
    tasks = session.scalars(select(Task).where(Task.region_code == region_code, Task.status != "not_needed")
                            .order_by(Task.due_at, Task.id)).all()
    subsidies = session.scalars(select(Subsidy).where(Subsidy.region_code == region_code, Subsidy.started)
                                .order_by(Subsidy.month.desc()).limit(1)).all()
    return {
        "lang": lang, "labels": LABELS[lang], "generated": local(now, zone), "timezone": region["timezone"],
        "region": {"code": region_code, "name": region["name"], "prefecture": region["prefecture_name"],
                   "province": region["province_name"]},
        "alerts": [{"id": a.id, "hazard": HAZARD_NAMES[a.hazard][lang], "level": a.level,
                    "level_name": LEVEL_NAMES[a.level][lang], "onset": local(a.onset, zone),
                    "evidence": a.evidence[lang]} for a in alerts],
        "tasks": [{"id": t.id, "type": t.type, "title": t.title[lang], "instructions": t.instructions[lang],
                   "role": t.role[lang], "due": local(t.due_at, zone), "status": t.status,
                   "status_name": STATUS_NAMES[lang][t.status], "instance": t.instance,
                   "overdue": is_overdue(t.status, t.due_at, now), "active": t.status in ACTIVE,
                   "shelters": t.quantities.get("shelter_list", []), "note": t.note} for t in tasks],
        "subsidy": [{"month": s.month, "total_yuan": s.total_yuan, "recipients": s.recipients,
                     "per_person_urban": s.per_person_urban, "per_person_rural": s.per_person_rural} for s in subsidies],
    }


def render_html(model: dict) -> str:
    return ENVIRONMENT.get_template("sheet.html").render(**model)


def render_markdown(model: dict) -> str:
    return ENVIRONMENT.get_template("tasklist.md").render(**model)
