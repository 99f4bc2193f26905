"""The API for outcome figures: a task's running totals read and reported (also as a chat reply),
and the roll-up a department reports upward."""

from __future__ import annotations

from flask import g
from werkzeug.exceptions import Forbidden, NotFound

from triggers.outcomes import read_reply
from triggers.validation import InvalidConfig
from triggers.regioncodes import NATION, area_prefix
from warning.accounts import can_see, own_area
from warning.models import Task, utcnow
from warning.outcomes import Period, current_figures, record_figures, rollup, said
from warning.web import changeable_task, runtime
from warning.web import api_models as m
from warning.web.api import api
from warning.web.contract import endpoint

# Two methods on one path: the id's bound is checked in the views, since a converter's bound failing
# for one rule makes Werkzeug answer 405 naming the other's method instead of 404.
MAX_ID = 2147483647


def known_id(task_id: int) -> int:
    if task_id > MAX_ID:
        raise NotFound(f"no task {task_id}")
    return task_id


@api.get("/tasks/<int:task_id>/outcomes")
@endpoint("A task's measures and the running totals reported for it", answers={200: m.TaskOutcomes},
          errors=(404,))
def task_outcomes(task_id: int):
    with runtime().sessions() as session:
        task = session.get(Task, known_id(task_id))
        if task is None or not can_see(g.user, task.region_code):
            raise NotFound(f"no task {task_id}")
        return {"task_id": task_id, "measures": measure_views(task.type), "figures": current_figures(session, task_id)}


@api.post("/tasks/<int:task_id>/outcomes")
@endpoint("Report a task's running totals (whole numbers from 0; audited; implausible ones flagged, not refused)",
          body=m.OutcomeFigures, answers={200: m.RecordedOutcomes}, errors=(403, 404))
def report_outcomes(task_id: int):
    return recorded(known_id(task_id), g.body.figures, "api")


@api.post("/outcomes/reply")
@endpoint("Report figures as a chat reply: 任务 1234 巡查 12 救助 30 棉被 5 (task 1234 patrols 12 helped 30)",
          body=m.OutcomeReply, answers={200: m.RecordedOutcomes}, errors=(403, 404))
def reply_outcomes():
    task_id, figures = read_reply(g.body.text, runtime().config.playbook)
    return recorded(known_id(task_id), figures, "reply")


def recorded(task_id: int, figures: dict, via: str) -> dict:
    config = runtime().config
    with runtime().sessions.begin() as session:
        answer = record_figures(session, config, changeable_task(session, task_id), figures, g.user.name, via, utcnow())
    return answer | {"said": said(config, answer)}


@api.get("/reports/outcomes")
@endpoint("Outcome figures by county, prefecture, province or nation: the period's, the campaign's, and how many "
          "counties reported", query=m.OutcomeReportQuery, answers={200: m.OutcomeReport}, errors=(403, 404))
def outcome_report():
    query = g.query
    if query.until < query.start or (query.since and query.since > query.start):
        raise InvalidConfig(["until: must not come before start, nor since after it"])
    with runtime().sessions() as session:
        return {"items": rollup(session, runtime().config, query.by, Period(query.start, query.until, query.since),
                                visible_area(query.area))}


def visible_area(area: str | None) -> str | None:
    """The code prefix a roll-up covers: the area asked for, within what the caller may see."""
    if area is not None and area != NATION:
        if area not in runtime().config.area_codes:
            raise NotFound(f"no area {area}")
        if not can_see(g.user, area):
            raise Forbidden(f"{g.user.name} may not see area {area}")
        return area_prefix(area)
    own = own_area(g.user)
    return None if own == NATION else area_prefix(own)


def measure_views(task_type: str) -> list[dict]:
    measures = runtime().config.playbook.measures
    return [{"key": key, "name": measures[key].name.model_dump(), "unit": measures[key].unit.model_dump()}
            for key in runtime().config.playbook.measures_of(task_type)]

