"""Outcome figures stored and added up: a county reports a task's running totals (page, API, chat
reply); roll-ups give each area's figures for a period and since a campaign began, with how many
counties reported, by county, prefecture, province or for the nation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.outcomes import checked_figures, reviews
from triggers.regioncodes import NATION, county_of
from warning.accounts import audit
from warning.config import AppConfig
from warning.models import Caseload, OutcomeReport, Task
from warning.caseload import CASELOAD_COLUMNS

LEVELS = ("county", "prefecture", "province", "nation")
REPORT_ZONE = "Asia/Shanghai"  # a department's days are Beijing days, wherever its counties lie


def current_figures(session: Session, task_id: int) -> dict[str, int]:
    """The task's running total per measure: its newest report of each."""
    return figures_of_tasks(session, [task_id]).get(task_id, {})


def figures_of_tasks(session: Session, task_ids: list[int]) -> dict[int, dict[str, int]]:
    figures: dict[int, dict[str, int]] = {}
    for report in session.scalars(select(OutcomeReport).where(OutcomeReport.task_id.in_(task_ids))
                                  .order_by(OutcomeReport.reported_at, OutcomeReport.id)):
        figures.setdefault(report.task_id, {})[report.measure] = report.value
    return figures


def record_figures(session: Session, config: AppConfig, task: Task, figures: object, actor: str, via: str,
                   now: datetime) -> dict:
    """Store the figures that changed (InvalidConfig, before anything is stored, for any that cannot
    be taken), audited; answer the task's totals and what is flagged for review."""
    figures = checked_figures(config.playbook, task.type, figures)
    previous = current_figures(session, task.id)
    changed = {m: v for m, v in figures.items() if previous.get(m) != v}
    flagged = reviews(config.playbook, changed, previous, caseload_of(session, task.region_code))
    for measure, value in changed.items():
        review = flagged.get(measure)
        session.add(OutcomeReport(task_id=task.id, region_code=task.region_code, task_type=task.type, measure=measure,
                                  value=value, reported_at=now, reported_by=actor, via=via,
                                  review=f"{review['kind']}:{review['limit']}" if review else None))
    if changed:
        audit(session, actor, "task.outcomes", f"task:{task.id}", {m: previous.get(m) for m in changed}, changed,
              reason=via)
    return {"task_id": task.id, "figures": previous | figures, "changed": sorted(changed), "reviews": flagged}


def caseload_of(session: Session, region_code: str) -> dict | None:
    record = session.get(Caseload, county_of(region_code))
    return None if record is None else {c.name: getattr(record, c.name) for c in CASELOAD_COLUMNS}


@dataclass(frozen=True)
class Period:
    """Local days from `start` to `until` (both included), within a campaign that began on `since`."""

    start: date
    until: date
    since: date | None = None

    def bounds(self) -> tuple[datetime, datetime, datetime | None]:
        zone = ZoneInfo(REPORT_ZONE)

        def at(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
        return at(self.start), at(self.until + timedelta(days=1)), at(self.since) if self.since else None


def reports_frame(session: Session, before: datetime, within: str | None) -> pd.DataFrame:
    query = select(OutcomeReport.task_id, OutcomeReport.region_code, OutcomeReport.measure, OutcomeReport.value,
                   OutcomeReport.reported_at, OutcomeReport.id).where(OutcomeReport.reported_at < before)
    if within:
        query = query.where(OutcomeReport.region_code.startswith(within))
    frame = pd.DataFrame(session.execute(query).all(),
                         columns=["task_id", "region_code", "measure", "value", "reported_at", "id"])
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    return frame.sort_values(["reported_at", "id"])


def totals_at(frame: pd.DataFrame, moment: datetime | None) -> pd.Series:
    """Each (task, measure)'s running total as of `moment` (0 before its first report)."""
    if moment is None:
        return pd.Series(dtype="int64")
    known = frame[frame["reported_at"] < pd.Timestamp(moment)]
    return known.groupby(["task_id", "measure"])["value"].last()


def area_of(region_code: str, level: str) -> str:
    county = county_of(region_code)
    return {"county": county, "prefecture": county[:4] + "00", "province": county[:2] + "0000",
            "nation": NATION}[level]


def rollup(session: Session, config: AppConfig, level: str, period: Period, within: str | None = None) -> list[dict]:
    """One row per area and measure: the period's figure (what the running totals grew by within it),
    the campaign's (since its start; all reported if none), and how many counties reported within the
    period. `within`: an area code prefix the caller may see."""
    start, end, since = period.bounds()
    frame = reports_frame(session, end, within)
    if frame.empty:
        return []
    task_area = frame.groupby("task_id")["region_code"].first().map(lambda code: area_of(code, level))
    at_end, at_start, at_since = totals_at(frame, end), totals_at(frame, start), totals_at(frame, since)
    grown = pd.DataFrame({"period": at_end.sub(at_start, fill_value=0),
                          "campaign": at_end.sub(at_since, fill_value=0) if since else at_end}).reset_index()
    grown["area"] = grown["task_id"].map(task_area)
    sums = grown.groupby(["area", "measure"])[["period", "campaign"]].sum().astype("int64").reset_index()
    in_period = frame[frame["reported_at"] >= pd.Timestamp(start)]
    reporting = in_period.assign(area=in_period["region_code"].map(lambda code: area_of(code, level)),
                                 county=in_period["region_code"].map(county_of)).groupby("area")["county"].nunique()
    order = {m: i for i, m in enumerate(config.playbook.measures)}
    rows = [{"area": r.area, "name": config.area_names.get(r.area, "全国" if r.area == NATION else r.area),
             "measure": r.measure, "period": int(r.period), "campaign": int(r.campaign),
             "counties_reported": int(reporting.get(r.area, 0))} for r in sums.itertuples()]
    return sorted(rows, key=lambda r: (r["area"], order.get(r["measure"], len(order))))


def flagged(session: Session, period: Period, within: str | None = None) -> list[OutcomeReport]:
    """The figures reported within the period that were flagged for review, newest first."""
    start, end, _ = period.bounds()
    query = select(OutcomeReport).where(OutcomeReport.review.is_not(None), OutcomeReport.reported_at >= start,
                                        OutcomeReport.reported_at < end)
    if within:
        query = query.where(OutcomeReport.region_code.startswith(within))
    return session.scalars(query.order_by(OutcomeReport.reported_at.desc(), OutcomeReport.id.desc()).limit(200)).all()


def daily(session: Session, measure: str, period: Period, within: str | None = None) -> list[tuple[date, int]]:
    """The measure's figure for each day of the period (what its running totals grew by that day)."""
    _, end, _ = period.bounds()
    frame = reports_frame(session, end, within)
    frame = frame[frame["measure"] == measure]
    days = [period.start + timedelta(days=n) for n in range((period.until - period.start).days + 1)]
    totals = [int(totals_at(frame, Period(day, day).bounds()[0]).sum()) for day in days + [period.until + timedelta(days=1)]]
    return [(day, after - before) for day, before, after in zip(days, totals, totals[1:])]


def said(config: AppConfig, recorded: dict) -> dict[str, str]:
    """What was recorded, in Chinese and English, as a chat robot would post it back."""
    measures, zh, en = config.playbook.measures, [], []
    for key in recorded["changed"]:
        value, measure = recorded["figures"][key], measures[key]
        zh.append(f"{measure.name.zh} {value} {measure.unit.zh}")
        en.append(f"{measure.name.en} {value} {measure.unit.en}")
    if not zh:
        return {"zh": f"任务 {recorded['task_id']}：与上次报送相同，未改变", "en": f"task {recorded['task_id']}: as reported before; nothing changed"}
    text = {"zh": f"已记录任务 {recorded['task_id']}：" + "，".join(zh), "en": f"recorded for task {recorded['task_id']}: " + ", ".join(en)}
    for key, review in recorded["reviews"].items():
        name = measures[key].name
        if review["kind"] == "lower_than_before":
            text["zh"] += f"。{name.zh}低于上次报送的 {review['limit']}，按更正记录，待核"
            text["en"] += f". {name.en} is below the {review['limit']} reported before: kept as a correction, for review"
        else:
            text["zh"] += f"。{name.zh}高于名册可能的 {review['limit']}，已记录，待核"
            text["en"] += f". {name.en} is above the {review['limit']} the caseload makes plausible: kept, for review"
    return text
