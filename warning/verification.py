"""Verification from the stored cycles: each cycle's day record read back and scored
(triggers.verification), for the command line, the API and the console page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.grid import DEFAULT_ZONE
from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES, LEVEL_NAMES
from triggers.regioncodes import COUNTY_DIGITS, is_region_code
from triggers.validation import InvalidConfig
from triggers.verification import (DayRecord, Scores, brier_table, contingency_table, lead_table,
                                   reliability_table, score)
from warning.models import DayRecordRow

BEIJING = ZoneInfo(DEFAULT_ZONE)
BRIEFING_HOUR = 8  # Beijing time: the cycle of each day that verification scores is the one nearest it
BREAKDOWNS = ("lead_d", "province", "month")  # what the tables may be broken down by, beyond hazard and level


@dataclass(frozen=True)
class Query:
    since: datetime | None = None
    until: datetime | None = None
    by: tuple[str, ...] = ("lead_d",)
    province: str | None = None

    @classmethod
    def checked(cls, since: datetime | None, until: datetime | None, by: str | None, province: str | None,
                prefix: str = "") -> Query:
        """From what a person typed; InvalidConfig naming each field (`prefix` + its name) that is wrong."""
        problems = []
        chosen = tuple(b.strip() for b in by.split(",") if b.strip()) if by else ("lead_d",)
        for name in chosen:
            if name not in BREAKDOWNS:
                problems.append(f"{prefix}by: {name!r} is not one of {', '.join(BREAKDOWNS)}")
        if province is not None and not is_province_code(province):
            problems.append(f"{prefix}province: {province!r} is not a province code (two digits and zeros, as 220000)")
        if since and until and since > until:
            problems.append(f"{prefix}since: {since.isoformat()} comes after until {until.isoformat()}")
        if problems:
            raise InvalidConfig(problems)
        return cls(since, until, tuple(dict.fromkeys(chosen)), province)


def is_province_code(text: str) -> bool:
    return is_region_code(text) and len(text) == COUNTY_DIGITS and text[2:] == "0000"


def beijing_days(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The period from the start of Beijing day `since` to the end of `until` (either open)."""
    return (datetime.combine(since, time(), BEIJING) if since else None,
            datetime.combine(until + timedelta(days=1), time(), BEIJING) - timedelta(microseconds=1) if until else None)


def day_records(session: Session, query: Query) -> list[DayRecord]:
    """The records verification scores in the period: one per Beijing day, the cycle nearest its morning
    briefing (BRIEFING_HOUR; the earlier on a tie, the last recorded of several on one clock). Each hourly
    cycle would count each model run many times over (the models behind a forecast run every 1 to 6 hours)
    and cost a winter's verification minutes, not seconds; a day's morning list is what counties act on."""
    rows = select(DayRecordRow.cycle_id, DayRecordRow.as_of, DayRecordRow.recorded_at).where(DayRecordRow.kind != "observed")
    if query.since:
        rows = rows.where(DayRecordRow.as_of >= query.since)
    if query.until:
        rows = rows.where(DayRecordRow.as_of <= query.until)
    chosen: dict = {}
    for cycle_id, as_of, recorded_at in session.execute(rows):
        local = as_of.astimezone(BEIJING)
        rank = (abs(local.hour + local.minute / 60 - BRIEFING_HOUR), as_of, -recorded_at.timestamp())
        if local.date() not in chosen or rank < chosen[local.date()][0]:
            chosen[local.date()] = (rank, cycle_id)
    ids = [cycle_id for _, cycle_id in chosen.values()]
    bodies = [body for start in range(0, len(ids), 500) for body in session.scalars(
        select(DayRecordRow.body).where(DayRecordRow.cycle_id.in_(ids[start:start + 500])))]
    return [DayRecord.from_bytes(body) for body in bodies]


def observations(session: Session, query: Query) -> list[DayRecord]:
    """The observed series' records from the period's start on (what happened after it counts too),
    newest first: a later reanalysis of a day replaces an earlier, preliminary one."""
    rows = select(DayRecordRow.body).where(DayRecordRow.kind == "observed")
    if query.since:
        rows = rows.where(DayRecordRow.as_of >= query.since)
    return [DayRecord.from_bytes(body) for body in session.scalars(rows.order_by(DayRecordRow.as_of.desc()))]


def verification(session: Session, query: Query) -> dict:
    """Every score of the period as plain rows (JSON's null where a score has nothing to count)."""
    records, observed, scores = scored(session, query)
    return {"cycles": len(records), "observations": observed,
            "first_cycle": min((r.as_of for r in records), default=None),
            "last_cycle": max((r.as_of for r in records), default=None),
            "by": list(query.by), "province": query.province, **tables(scores, query)}


def scored(session: Session, query: Query) -> tuple[list[DayRecord], int, Scores | None]:
    """The records scored, how many observed-series records judged them, and the scores (None: no records)."""
    records, observed = day_records(session, query), observations(session, query)
    return records, len(observed), score(records, observed) if records else None


def tables(scores: Scores | None, query: Query) -> dict[str, list[dict]]:
    if scores is None:
        return {"contingency": [], "lead_times": [], "brier": [], "reliability": []}
    extra = tuple(b for b in query.by if b != "lead_d")  # the lead is in the event, not its warning lead
    return {"contingency": rows_of(contingency_table(scores, ("source", "hazard", "level") + query.by, query.province)),
            "lead_times": rows_of(lead_table(scores, ("source", "hazard", "level") + extra, query.province)),
            "brier": rows_of(brier_table(scores, ("hazard", "level") + query.by, query.province)),
            "reliability": rows_of(reliability_table(scores))}


def rows_of(frame) -> list[dict]:
    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


def plain(value):
    """A JSON value: numpy numbers as Python's, NaN as None."""
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


SOURCE_NAMES = {"deterministic": {"zh": "确定性预报", "en": "deterministic forecast"},
                "ensemble_prepare": {"zh": "集合预报·准备概率", "en": "ensemble at the prepare share"},
                "ensemble_act": {"zh": "集合预报·行动概率", "en": "ensemble at the act share"}}
TEXT = {
    "zh": {"head": "预警检验:{cycles} 个运行周期,{first} 至 {last}(北京时间)", "none": "尚无可检验的运行周期。",
           "row": "{source} {hazard}{level}{extra}:命中 {hits},漏报 {misses},空报 {false_alarms};"
                  "命中率 {pod},空报率 {far},TS评分 {csi}",
           "lead": "{source} {hazard}{level}{extra}:{events_warned} 次过程提前预警,平均提前 {mean_lead_h} 小时",
           "brier": "{hazard}{level}{extra}:布赖尔评分 {brier}({forecasts} 个概率预报)",
           "lead_d": "提前{}天", "province": "省份 {}", "month": "{} 月", "missing": "—"},
    "en": {"head": "Verification: {cycles} cycles, {first} to {last} (Beijing time)", "none": "No stored cycle to verify yet.",
           "row": "{source} {hazard} {level}{extra}: {hits} hits, {misses} misses, {false_alarms} false alarms; "
                  "POD {pod}, FAR {far}, CSI {csi}",
           "lead": "{source} {hazard} {level}{extra}: {events_warned} events warned, {mean_lead_h} h ahead on average",
           "brier": "{hazard} {level}{extra}: Brier score {brier} ({forecasts} probability forecasts)",
           "lead_d": "{} days ahead", "province": "province {}", "month": "month {}", "missing": "—"},
}


def verification_text(report: dict, lang: str) -> str:
    """The report as lines a person reads (one language)."""
    words = TEXT[lang]
    if not report["cycles"]:
        return words["none"] + "\n"
    beijing = lambda t: t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    lines = [words["head"].format(cycles=report["cycles"], first=beijing(report["first_cycle"]),
                                  last=beijing(report["last_cycle"]))]
    for kind, rows in (("row", report["contingency"]), ("lead", report["lead_times"]), ("brier", report["brier"])):
        lines += [""] + [words[kind].format(**named(row, lang)) for row in rows]
    return "\n".join(lines) + "\n"


def named(row: dict, lang: str) -> dict:
    words = TEXT[lang]
    extra = "".join(("," if lang == "zh" else ", ") + words[key].format(row[key])
                    for key in BREAKDOWNS if row.get(key) is not None)
    shown = {key: words["missing"] if value is None else f"{value:.0%}" if key in ("pod", "far") else
             f"{value:.2f}" if key == "csi" else value for key, value in row.items()}
    return shown | {"source": SOURCE_NAMES.get(row.get("source"), {lang: ""})[lang],
                    "hazard": HAZARD_NAMES[row["hazard"]][lang], "level": LEVEL_NAMES[row["level"]][lang], "extra": extra}


def region_probabilities(session: Session, code: str) -> dict | None:
    """The newest cycle's ensemble shares for one region: per daily rule and level, the share of members
    meeting it on each day from today, and the stage it reaches there (None: no ensemble had the region)."""
    newest = session.execute(select(DayRecordRow.as_of, DayRecordRow.body).where(DayRecordRow.kind != "observed")
                             .order_by(DayRecordRow.as_of.desc(), DayRecordRow.recorded_at.desc()).limit(1)).first()
    if newest is None:
        return None
    record = DayRecord.from_bytes(newest.body)
    rows = np.flatnonzero(record.codes == code)
    if not len(rows) or not record.meeting:
        return None
    row = rows[0]
    ahead = np.flatnonzero(record.lead_days[row] >= 0)
    members = record.members[row, ahead].astype(int)
    if not members.any():
        return None
    lead_h = record.start_h[row] + 24.0 * ahead  # to the start of each day (< 0: today, begun)
    levels = []
    for hazard, meeting in record.meeting.items():
        (prepare, act), (prepare_h, act_h) = record.stage_pct[hazard][row], record.stage_h[hazard][row]
        for index, level in enumerate(COLOUR_LEVELS):
            counts = meeting[index, row, ahead].astype(int)  # (stored as bytes: 7 x 100 would wrap)
            if counts.any():
                levels.append({"hazard": hazard, "level": level, "prepare_pct": float(prepare), "act_pct": float(act),
                               "days": [None if not n else {
                                   "meeting": int(m), "members": int(n), "pct": round(100 * m / n),
                                   "stage": "act" if m * 100 >= act * n and h <= act_h else
                                            "prepare" if m * 100 >= prepare * n and h <= prepare_h else None}
                                   for m, n, h in zip(counts, members, lead_h)]})
    return {"as_of": newest.as_of, "days": [str(record.first_day + int(day)) for day in ahead], "levels": levels,
            "members": int(members.max())}
