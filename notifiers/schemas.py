"""The published contract of every event's `data`, version 1, as JSON Schema.

The models only describe; events are built in the service. The test suite checks that every
event the service sends validates against these schemas and that docs/schemas/ matches them.
A field may be added within a version; renaming, removing or retyping one makes version 2.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = 1
BASE_ID = "https://coldwarn.example/schemas/events"
Level = Literal["blue", "yellow", "orange", "red"]
TaskStatus = Literal["open", "acknowledged", "in_progress", "done", "not_needed"]
UtcTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")]


class Contract(BaseModel):
    model_config = ConfigDict(extra="allow")  # receivers must ignore fields they do not know


class Bilingual(Contract):
    zh: str
    en: str


class Area(Contract):
    code: str = Field(pattern=r"^\d{6}(\d{3})?$")  # a county or a township
    name: str


class Region(Area):
    """A county-level region (GB/T 2260 code) with its prefecture, province and IANA time zone."""
    prefecture: Area
    province: Area
    timezone: str


class Versioned(Contract):
    schema_version: Literal[1]


class AlertEvent(Versioned):
    """alert.issued, alert.updated (level, stage or times changed), alert.resolved."""
    alert_id: int
    region: Region
    hazard: str = Field(description="cold_wave, cold_wave_grade, frost, persistent_cold, shelter, official")
    hazard_name: Bilingual
    episode: int
    status: Literal["open", "resolved"]
    level: Level
    level_name: Bilingual
    previous_level: Level | None
    stage: Literal["prepare", "act"]
    onset: UtcTime
    ends: UtcTime
    lead_time_h: float
    evidence: Bilingual
    rule_version: str
    reason: str = Field(description="why it changed or resolved; empty on issue")


class TaskData(Contract):
    task_id: int
    type: str = Field(description="playbook task type, e.g. visit_vulnerable, open_shelter, pay_price_subsidy")
    status: TaskStatus
    rule: str
    due_at: UtcTime
    quantities: dict
    role: Bilingual
    title: Bilingual
    instructions: Bilingual


class TaskListEvent(Versioned):
    """tasklist.issued: new tasks for one county, from one alert, one subsidy decision or one festival
    (元旦, 春节: both ids null; each task's rule begins festival/)."""
    region: Region
    alert_id: int | None
    subsidy_id: int | None
    tasks: list[TaskData]


class TaskState(TaskData):
    instance: int = Field(description="repeated tasks (daily visits, nightly patrols) count up")
    note: str | None


class TaskEvent(Versioned):
    """task.updated (a county changed its status) and task.overdue (sent once, when the due time passes)."""
    region: Region
    alert_id: int | None
    subsidy_id: int | None
    task: TaskState
    changed_by: str | None
    overdue: bool


class PriceIndex(Contract):
    area_code: str
    scope: str
    cpi_yoy: float
    food_cpi_yoy: float
    released_on: UtcTime


class PerPerson(Contract):
    urban: float | None
    rural: float | None


class SubsidyEvent(Versioned):
    """subsidy.issued: the price-linkage mechanism started for a county and month."""
    subsidy_id: int
    region: Region
    month: str = Field(pattern=r"^\d{4}-\d\d$")
    triggered_by: str
    amount_by: Literal["cpi", "food"] | None = Field(
        default=None, description="whose rise set the amount: the higher of the two when both started the mechanism")
    index: PriceIndex
    rise_pct: float
    per_person_yuan: PerPerson
    recipients: int | None
    total_yuan: float | None
    rule_version: str


class FeedEvent(Versioned):
    """feed.stale and feed.recovered, each sent once per change (admin subscriptions only)."""
    feed: Literal["forecast", "ensemble", "observed", "warnings", "cpi"]
    data_as_of: UtcTime | None
    stale_since: UtcTime
    max_age_h: float


class SubscriptionDisabledEvent(Versioned):
    """subscription.disabled: an endpoint is gone or has failed too long (admin subscriptions only)."""
    subscription: str
    url: str = Field(description="with query values hidden: robot URLs carry their key there")
    reason: str


EVENT_MODELS: dict[str, type[Versioned]] = {
    "alert.issued": AlertEvent, "alert.updated": AlertEvent, "alert.resolved": AlertEvent,
    "tasklist.issued": TaskListEvent, "task.updated": TaskEvent, "task.overdue": TaskEvent,
    "subsidy.issued": SubsidyEvent, "feed.stale": FeedEvent, "feed.recovered": FeedEvent,
    "subscription.disabled": SubscriptionDisabledEvent,
}


class BatchedEvent(Contract):
    id: str = Field(description="the event's own id, the same in every batch that carries it: drop duplicates by it")
    type: Literal[tuple(EVENT_MODELS)]
    timestamp: UtcTime
    data: dict = Field(description="as the schema of its type says")


class BatchEvent(Versioned):
    """batch: a subscriber's events in the order they were made, several per signed POST (subscriptions
    with `batch`)."""
    events: list[BatchedEvent] = Field(min_length=1)


class PingEvent(Versioned):
    """ping: a test sent from the console on request, to check the endpoint and its secret; no action."""
    subscription: str
    message: str


PUBLISHED: dict[str, type[Versioned]] = EVENT_MODELS | {"batch": BatchEvent, "ping": PingEvent}


def event_schema(event_type: str) -> dict:
    """The JSON Schema of the whole webhook body {type, timestamp, data} for one event type, or a batch."""
    data = PUBLISHED[event_type].model_json_schema(ref_template="#/$defs/{model}")
    definitions = data.pop("$defs", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_ID}/{event_type}/v{SCHEMA_VERSION}.json",
        "title": f"coldwarn {event_type} v{SCHEMA_VERSION}",
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {"type": {"const": event_type}, "timestamp": {"type": "string", "format": "date-time"},
                       "data": data},
        "$defs": definitions,
    }


def schema_file(event_type: str) -> str:
    return json.dumps(event_schema(event_type), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
