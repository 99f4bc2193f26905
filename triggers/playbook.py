"""Playbooks: which tasks a (hazard, level, stage) calls for, with due times and quantities."""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from triggers.grid import DEFAULT_ZONE
from triggers.caseload import CASELOAD_COUNTS
from triggers.levels import LEVEL_RANK, rank
from triggers.validation import InvalidConfig, StrictModel, describe
from triggers.workdays import end_of_working_days

PLACEHOLDERS = {"people", "shelters", "capacity", "amount_yuan", "per_person_urban",
                "per_person_rural", "recipients", "month", "festival", "day", "per_person"}
NOT_ON_RECORD = "—"


@functools.cache
def placeholders_in(text: str) -> tuple[str, ...]:
    """The placeholder names a text uses (read once per text: a national cycle renders tens of thousands)."""
    return tuple(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(text) if name is not None))


class Text(StrictModel):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    @field_validator("zh", "en")
    @classmethod
    def known_placeholders(cls, value: str) -> str:
        unknown = set(placeholders_in(value)) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {sorted(PLACEHOLDERS)}")
        return value


class Due(StrictModel):
    """Hours from the anchor, or the end of the Nth working day after it (China's official calendar:
    the 2016 price-linkage notice pays "within 20 working days" of the index's release)."""
    relative_to: Literal["onset", "issue"]
    offset_h: float | None = Field(default=None, ge=-240, le=744)
    working_days: int | None = Field(default=None, ge=1, le=60)

    @model_validator(mode="after")
    def one_way_of_counting(self):
        if (self.offset_h is None) == (self.working_days is None):
            raise ValueError("give either offset_h or working_days")
        return self

    def time_after(self, anchor: datetime, zone: str) -> datetime:
        if self.working_days is not None:
            return end_of_working_days(anchor, self.working_days, zone)
        return anchor + timedelta(hours=self.offset_h)


HAZARDS = ("cold_wave", "cold_wave_grade", "frost", "persistent_cold", "shelter", "official", "price_linkage",
           "festival", "festival_subsidy")  # (the last two: 元旦 and 春节, and a province's holiday subsidy)
STARTED_ONLY = ("price_linkage", "festival", "festival_subsidy")  # no colours: they start, or not


class Plausible(StrictModel):
    """A figure above `times` the sum of these caseload columns is flagged for review (never refused):
    a county paying more people than it has on its rolls has most likely mistyped."""
    caseload: list[Literal[CASELOAD_COUNTS]] = Field(min_length=1)  # type: ignore[valid-type]
    times: float = Field(gt=0, le=10_000)


class Measure(StrictModel):
    """What a county reports for a task, counted up as it works: 街面巡查 12 次."""
    name: Text
    unit: Text
    aliases: list[str] = []  # other words a reply may use for it (巡查, patrols)
    plausible: Plausible | None = None


class TaskTemplate(StrictModel):
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    hazards: list[Literal[HAZARDS]] = Field(min_length=1)  # type: ignore[valid-type]
    min_level: str | dict[str, str]  # one level for all its hazards, or one per hazard
    stages: list[Literal["prepare", "act"]] = Field(min_length=1)
    due: Due
    role: Text
    title: Text
    instructions: Text
    people: list[Literal[CASELOAD_COUNTS]] = []  # type: ignore[valid-type]
    shelters: bool = False
    repeat_every_h: int | None = Field(default=None, ge=6, le=168)  # again while the alert lasts
    measures: list[str] = []  # what a county reports for it (keys of the playbook's measures)

    @model_validator(mode="after")
    def level_fits_hazards(self):
        if isinstance(self.min_level, dict) and set(self.min_level) != set(self.hazards):
            raise ValueError("min_level by hazard must name exactly the template's hazards")
        for hazard in self.hazards:
            allowed = ("start",) if hazard in STARTED_ONLY else ("blue", "yellow", "orange", "red")
            if self.level_for(hazard) not in allowed:
                raise ValueError(f"min_level for {hazard} must be one of {list(allowed)}")
        return self

    def level_for(self, hazard: str) -> str:
        return self.min_level[hazard] if isinstance(self.min_level, dict) else self.min_level


class Campaign(StrictModel):
    """A season's campaign (寒冬送温暖): reports count its figures from its first day."""
    name: Text
    start: date
    until: date

    @model_validator(mode="after")
    def in_order(self):
        if self.until < self.start:
            raise ValueError("until must not come before start")
        return self


class Playbook(StrictModel):
    measures: dict[str, Measure] = {}
    campaigns: list[Campaign] = []
    tasks: list[TaskTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def unique_types(self):
        seen = [(h, t.type) for t in self.tasks for h in t.hazards]
        duplicated = sorted({s for s in seen if seen.count(s) > 1})
        if duplicated:
            raise ValueError(f"task types must be unique per hazard; repeated: {duplicated}")
        return self

    @model_validator(mode="after")
    def measures_known(self):
        unknown = sorted({m for t in self.tasks for m in t.measures} - set(self.measures))
        if unknown:
            raise ValueError(f"tasks report unknown measures {unknown}; known: {sorted(self.measures)}")
        words = [w for key, m in self.measures.items() for w in {key, m.name.zh, m.name.en, *m.aliases}]
        repeated = sorted({w for w in words if words.count(w) > 1})
        if repeated:
            raise ValueError(f"a word names two measures: {repeated}")
        return self

    def campaign_on(self, day: date) -> Campaign | None:
        return next((c for c in self.campaigns if c.start <= day <= c.until), None)

    def measures_of(self, task_type: str) -> list[str]:
        """The measures a task type reports (the same type under several hazards reports the union)."""
        return list(dict.fromkeys(m for t in self.tasks if t.type == task_type for m in t.measures))


@dataclass(frozen=True)
class PlannedTask:
    type: str
    rule: str
    due_at: datetime
    quantities: dict
    role: dict
    title: dict
    instructions: dict
    instance: int = 1


def parse_playbook(data: object, source: str = "playbooks.yaml") -> Playbook:
    try:
        return Playbook.model_validate(data)
    except ValidationError as error:
        raise InvalidConfig(describe(error, source)) from None


def applicable(playbook: Playbook, hazard: str, level: str, stage: str) -> list[TaskTemplate]:
    return [t for t in playbook.tasks if hazard in t.hazards and stage in t.stages
            and LEVEL_RANK[t.level_for(hazard)] <= rank(level)]


def quantities(template: TaskTemplate, caseload: dict | None, shelters: list[dict],
               subsidy: dict | None) -> dict:
    q: dict = {}
    if template.people:
        q["people"] = sum(int(caseload[f]) for f in template.people) if caseload else None
    if template.shelters:
        q["shelters"] = len(shelters)
        q["capacity"] = sum(int(s["capacity"]) for s in shelters)
        q["shelter_list"] = [{k: s[k] for k in ("name", "address", "capacity")} for s in shelters]
    if subsidy:
        q.update({k: v for k, v in subsidy.items() if k in PLACEHOLDERS})
    return q


MONEY = {"amount_yuan", "per_person_urban", "per_person_rural", "per_person"}


def shown(key: str, value, lang: str) -> str:
    """A placeholder's value as the text shows it; a value given in both languages ({zh, en}) in the text's."""
    if isinstance(value, dict):
        value = value[lang]
    if value is None:
        return NOT_ON_RECORD
    return f"{value:,.2f}" if key in MONEY else str(value)


def render(text: Text, values: dict) -> dict:
    return {lang: words.format_map({k: shown(k, values.get(k), lang) for k in placeholders_in(words)})
            for lang, words in (("zh", text.zh), ("en", text.en))}


def plan_tasks(playbook: Playbook, *, hazard: str, level: str, stage: str, onset: datetime,
               now: datetime, caseload: dict | None, shelters: list[dict],
               subsidy: dict | None = None, existing_types: frozenset = frozenset(),
               zone: str = DEFAULT_ZONE) -> list[PlannedTask]:
    """Tasks the playbook asks for that the county's list does not hold yet (`existing_types`: the
    types already on this alert's list or open on another of the county's alerts)."""
    planned = []
    for template in applicable(playbook, hazard, level, stage):
        if template.type in existing_types:
            continue
        anchor = onset if template.due.relative_to == "onset" else now
        due = max(template.due.time_after(anchor, zone), now)
        planned.append(instance_of(template, hazard, stage, due, caseload, shelters, subsidy))
    return planned


def instance_of(template: TaskTemplate, hazard: str, stage: str, due: datetime, caseload, shelters, subsidy,
                number: int = 1) -> PlannedTask:
    q = quantities(template, caseload, shelters, subsidy)
    return PlannedTask(type=template.type, rule=f"{hazard}/{template.level_for(hazard)}+/{stage}", due_at=due,
                       quantities=q, role={"zh": template.role.zh, "en": template.role.en},
                       title=render(template.title, q),
                       instructions=render(template.instructions, q), instance=number)


def plan_repeats(playbook: Playbook, *, hazard: str, level: str, stage: str, ends: datetime, now: datetime,
                 latest: dict[str, tuple[datetime, int]], caseload: dict | None,
                 shelters: list[dict]) -> list[PlannedTask]:
    """The next instance of each repeating task, once the newest one's due time has passed and while
    the hazard lasts. It is due at the next period boundary still ahead, so a late cycle (or one
    after an outage) adds one instance, never a catch-up burst, and never one already overdue.

    `latest`: task type -> (due time, instance number) of its newest instance on this alert.
    """
    planned = []
    for template in applicable(playbook, hazard, level, stage):
        if template.repeat_every_h is None or template.type not in latest:
            continue
        last_due, number = latest[template.type]
        if last_due < now < ends:
            period = timedelta(hours=template.repeat_every_h)
            due = last_due + period * ((now - last_due) // period + 1)
            planned.append(instance_of(template, hazard, stage, due, caseload, shelters, None, number + 1))
    return planned
