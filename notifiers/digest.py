"""Human-readable forms of an event, for channels people read: chat robots, e-mail, SMS.

One digest (a title and labelled lines, in the county's language and local time) is built per
event and rendered as markdown, plain text, HTML or one short SMS line, so every channel says
the same thing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from triggers.tasks import STATUS_NAMES

WORDS = {
    "zh": {"region": "地区", "onset": "开始", "ends": "结束", "evidence": "依据", "stage_act": "立即行动",
           "stage_prepare": "提前准备", "stage": "阶段", "due": "时限", "role": "责任科室", "status": "状态",
           "note": "备注", "by": "操作人", "issued": "发布", "updated": "更新", "resolved": "解除",
           "tasklist": "防寒救助任务单", "task": "任务", "overdue": "任务逾期", "subsidy": "价格临时补贴启动",
           "month": "月份", "per_person": "每人（城市/农村）", "recipients": "人数", "total": "合计",
           "yuan": "元", "feed_stale": "数据源过期", "feed_recovered": "数据源恢复", "feed": "数据源",
           "data_as_of": "数据时间", "max_age": "允许时效（小时）", "disabled": "订阅已停用", "reason": "原因",
           "subscription": "订阅", "sep": "：", "previous": "原级别", "unknown": "未知"},
    "en": {"region": "Region", "onset": "From", "ends": "Until", "evidence": "Evidence", "stage_act": "act now",
           "stage_prepare": "prepare", "stage": "Stage", "due": "Due", "role": "Responsible", "status": "Status",
           "note": "Note", "by": "By", "issued": "issued", "updated": "updated", "resolved": "resolved",
           "tasklist": "Relief task list", "task": "Task", "overdue": "Task overdue",
           "subsidy": "Temporary price subsidy started", "month": "Month", "per_person": "Per person (urban/rural)",
           "recipients": "Recipients", "total": "Total", "yuan": "yuan", "feed_stale": "Feed stale",
           "feed_recovered": "Feed recovered", "feed": "Feed", "data_as_of": "Data as of",
           "max_age": "Allowed age (h)", "disabled": "Subscription disabled", "reason": "Reason",
           "subscription": "Subscription", "sep": ": ", "previous": "Was", "unknown": "unknown"},
}


@dataclass(frozen=True)
class Digest:
    title: str
    lines: tuple[tuple[str, str], ...]  # (label, text); an empty label is a plain line
    where: tuple[str, str] | None = None  # (label, the full place name), shown first but left out of SMS

    def all_lines(self) -> tuple[tuple[str, str], ...]:
        return ((self.where,) if self.where else ()) + self.lines

    def markdown(self) -> str:
        body = "\n".join(f"- **{label}** {text}" if label else f"- {text}" for label, text in self.all_lines())
        return f"### {self.title}\n{body}\n"

    def text(self, sep: str = ": ") -> str:
        return "\n".join([self.title, *(f"{label}{sep}{text}" if label else text for label, text in self.all_lines())])

    def html(self) -> str:
        items = "".join(f"<li><b>{html.escape(label)}</b> {html.escape(text)}</li>" if label
                        else f"<li>{html.escape(text)}</li>" for label, text in self.all_lines())
        return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(self.title)}</title></head>'
                f"<body><h2>{html.escape(self.title)}</h2><ul>{items}</ul></body></html>")

    def short(self, limit: int = 140) -> str:
        """One line for SMS: the title and then every line, cut to `limit` characters."""
        line = " ".join([self.title, *(f"{label} {text}" if label else text for label, text in self.lines)])
        return line if len(line) <= limit else line[:limit - 1] + "…"


def local_time(value: str | None, zone: str, lang: str) -> str:
    if not value:
        return WORDS[lang]["unknown"]
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return moment.strftime("%m月%d日 %H:%M") if lang == "zh" else moment.strftime("%d %b %H:%M")


def place(region: dict, lang: str) -> str:
    parts = [region["province"]["name"], region["prefecture"]["name"], region["name"]]
    return "".join(dict.fromkeys(parts)) if lang == "zh" else " / ".join(dict.fromkeys(parts))


def alert_digest(event: str, data: dict, lang: str) -> Digest:
    w, zone = WORDS[lang], data["region"]["timezone"]
    verb = w[event.split(".")[1]]
    hazard, level = data["hazard_name"][lang], data["level_name"][lang]
    title = (f"{data['region']['name']}{level}{hazard}预警{verb}" if lang == "zh"
             else f"{data['region']['name']}: {level} {hazard} warning {verb}")
    lines = [(w["onset"], local_time(data["onset"], zone, lang)), (w["ends"], local_time(data["ends"], zone, lang)),
             (w["stage"], w[f"stage_{data['stage']}"]), (w["evidence"], data["evidence"][lang])]
    if data.get("previous_level") and data["previous_level"] != data["level"]:
        lines.append((w["previous"], data["previous_level"]))
    if data.get("reason"):
        lines.append((w["reason"], data["reason"]))
    return Digest(title, tuple(lines), (w["region"], place(data["region"], lang)))


def tasklist_digest(data: dict, lang: str) -> Digest:
    w, zone = WORDS[lang], data["region"]["timezone"]
    title = f"{data['region']['name']}{w['tasklist']}" if lang == "zh" else f"{data['region']['name']}: {w['tasklist']}"
    lines = []
    for number, task in enumerate(data["tasks"], start=1):
        lines.append((f"{number}. {task['title'][lang]}",
                      f"{w['due']} {local_time(task['due_at'], zone, lang)} · {task['role'][lang]} · "
                      f"{task['instructions'][lang]}"))
    return Digest(title, tuple(lines), (w["region"], place(data["region"], lang)))


def task_digest(event: str, data: dict, lang: str) -> Digest:
    w, zone, task = WORDS[lang], data["region"]["timezone"], data["task"]
    heading = w["overdue"] if event == "task.overdue" else w["task"]
    title = f"{data['region']['name']}{heading}：{task['title'][lang]}" if lang == "zh" \
        else f"{data['region']['name']}: {heading}: {task['title'][lang]}"
    lines = [(w["status"], STATUS_NAMES[lang][task["status"]]), (w["due"], local_time(task["due_at"], zone, lang))]
    if task.get("note"):
        lines.append((w["note"], task["note"]))
    if data.get("changed_by"):
        lines.append((w["by"], data["changed_by"]))
    return Digest(title, tuple(lines))


def subsidy_digest(data: dict, lang: str) -> Digest:
    w = WORDS[lang]
    title = f"{data['region']['name']}{w['subsidy']}" if lang == "zh" else f"{data['region']['name']}: {w['subsidy']}"
    per = data["per_person_yuan"]

    def yuan(value: float | None) -> str:  # unknown when the county has no standard or caseload on file
        return w["unknown"] if value is None else f"{value:.2f}"
    return Digest(title, ((w["month"], data["month"]),
                          (w["per_person"], f"{yuan(per['urban'])} / {yuan(per['rural'])} {w['yuan']}"),
                          (w["recipients"], w["unknown"] if data["recipients"] is None else str(data["recipients"])),
                          (w["total"], f"{yuan(data['total_yuan'])} {w['yuan']}")))


def admin_digest(event: str, data: dict, lang: str) -> Digest:
    w = WORDS[lang]
    if event == "subscription.disabled":
        return Digest(f"{w['disabled']}{w['sep']}{data['subscription']}", ((w["reason"], data["reason"]),))
    key = "feed_stale" if event == "feed.stale" else "feed_recovered"
    return Digest(f"{w[key]}{w['sep']}{data['feed']}",
                  ((w["data_as_of"], data["data_as_of"] or w["unknown"]), (w["max_age"], f"{data['max_age_h']:g}")))


def digest(event: str, data: dict, lang: str = "zh") -> Digest:
    if event.startswith("alert."):
        return alert_digest(event, data, lang)
    if event == "tasklist.issued":
        return tasklist_digest(data, lang)
    if event.startswith("task."):
        return task_digest(event, data, lang)
    if event == "subsidy.issued":
        return subsidy_digest(data, lang)
    return admin_digest(event, data, lang)
