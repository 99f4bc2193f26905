"""What the API reads and answers, as pydantic models. warning.web.contract turns them into request
checks, answer shapes and the OpenAPI document; the event models come from notifiers.schemas, so an
alert reads the same in a webhook and in the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from notifiers.schemas import AlertEvent, Contract, Level, Region, SubsidyEvent, TaskData
from triggers.levels import HAZARD_NAMES
from triggers.tasks import STATES
from triggers.verification import SOURCES
from warning.preview import MAX_DAYS
from warning.verification import BREAKDOWNS

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000  # beyond it an offset no longer fits the database's integers (pages use it too)
AREA_CODE = r"^[0-9]{6}([0-9]{3})?$"
Hazard = Literal[tuple(HAZARD_NAMES)]
ScoreSource = Literal[SOURCES]  # what verification scores: the deterministic forecast, the ensemble at each stage
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
SAID = r"^[^\x00]*\S[^\x00]*$"
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
COUNTY = r"^[0-9]{6}$"
INSTANT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$"
PATTERN_WORDS = {SAID: "said (who acts and why are both recorded)", MONTH: "a month YYYY-MM",
                 COUNTY: "a six-digit area code", AREA_CODE: "a six-digit area code or a nine-digit township code",
                 NO_NUL: "text without NUL characters", INSTANT: "a date and time with its zone, as 2027-01-09T08:00+08:00"}
Text = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(max_length=2000, pattern=SAID)]
Month = Annotated[str, StringConstraints(pattern=MONTH)]
County = Annotated[str, StringConstraints(pattern=COUNTY)]
# (a string, not pydantic's datetime: in a query string that would take "0.5" as a Unix time)
Instant = Annotated[str, StringConstraints(pattern=INSTANT), Field(json_schema_extra={"format": "date-time"})]
Time = Annotated[str, Field(description="UTC, ISO 8601 with Z")]
T = TypeVar("T")


def one_or_more_of(values: tuple[str, ...], description: str):
    """A comma-separated list drawn from `values`, as a query parameter."""
    choice = "|".join(values)
    return Annotated[str, StringConstraints(pattern=rf"^({choice})(,({choice}))*$"), Field(description=description)]


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown parameter is an error, not silently ignored


class Paging(Query):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each invalid field."""
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int


# Queries

class TaskQuery(Paging):
    status: one_or_more_of(STATES, "comma-separated task statuses") | None = None


class SheetQuery(Query):
    format: Literal["json", "html", "md"] = "json"
    lang: Literal["zh", "en"] | None = Field(None, description="default: the console's language")


class ProgressQuery(Query):
    by: Literal["province", "prefecture", "county"] = "province"


class JobRunQuery(Paging):
    job: Literal["cycle", "deliver", "prune"] | None = None


class RegionQuery(Paging):
    province: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}0000$")] | None = None
    level: Literal["blue", "yellow", "orange", "red", "none"] | None = None


AreaFilter = Annotated[str, StringConstraints(pattern=AREA_CODE), Field(
    description="a township, a county, a prefecture (xxxx00) or a province (xx0000)")]


class AlertQuery(Paging):
    status: one_or_more_of(("open", "resolved"), "comma-separated") | None = None
    hazard: one_or_more_of(tuple(HAZARD_NAMES), "comma-separated hazards") | None = None
    level: one_or_more_of(("blue", "yellow", "orange", "red"), "comma-separated levels") | None = None
    region: AreaFilter | None = None


class SubsidyQuery(Paging):
    month: Month | None = None
    region: AreaFilter | None = None
    started: bool | None = None


class DeliveryQuery(Paging):
    status: one_or_more_of(("pending", "delivered", "parked"), "comma-separated") | None = None
    subscription: Annotated[str, StringConstraints(pattern=r"^[\w.-]{1,64}$")] | None = None


class AuditQuery(Paging):
    actor: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = None
    action: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = Field(
        None, description="a prefix, such as rules. or alert.")


# Bodies

class ManualCpiEntry(Body):
    area_code: County
    month: Month
    cpi_yoy: float = Field(ge=-50, le=100, description="year-on-year, %")
    food_cpi_yoy: float = Field(ge=-50, le=100, description="year-on-year, %")
    released_on: date = Field(description="the date the figures were published")
    reason: Reason


class TaskMove(Body):
    status: Literal["acknowledged", "in_progress", "done"]
    note: Text = ""


class TaskDismissal(Body):
    status: Literal["not_needed"]
    note: Reason = Field(description="why the task is not needed")


StatusChange = Annotated[Union[TaskMove, TaskDismissal], Field(discriminator="status")]


class ManualRaise(Body):
    action: Literal["raise"]
    region_code: County
    hazard: Hazard
    level: Level
    hours: float = Field(24, ge=1, le=336)
    reason: Reason


class ManualStandDown(Body):
    action: Literal["stand_down"]
    region_code: County
    hazard: Hazard
    hours: float = Field(24, ge=1, le=336)
    reason: Reason


ManualDecision = Annotated[Union[ManualRaise, ManualStandDown], Field(discriminator="action")]
RulesYaml = Annotated[str, StringConstraints(min_length=1, max_length=200_000, pattern=NO_NUL), Field(
    description="the whole rules.yaml as YAML text")]


class RulesText(Body):
    text: RulesYaml


class RulesChange(Body):
    text: RulesYaml
    reason: Reason


class RulesPreviewRequest(Body):
    text: RulesYaml
    days: int = Field(7, ge=1, le=MAX_DAYS)


class ReplayRequest(Body):
    since: datetime | None = Field(None, description="only what was parked since then; without an offset, UTC")


# Answers

class ManualCpiView(Contract):
    area_code: str
    month: str
    cpi_yoy: float
    food_cpi_yoy: float
    released_on: Time | None
    entered_by: str
    reason: str
    entered_at: Time


class FeedRunView(Contract):
    id: int
    cycle_id: str | None
    feed: str
    format: str | None
    source: str | None
    fetched_at: Time
    status: str
    attempts: int | None
    elapsed_ms: float | None
    rows: int | None
    error: str | None
    fallback_from: str | None


class CycleRunView(Contract):
    id: str
    started_at: Time | None
    finished_at: Time | None
    as_of: Time | None
    scenario: str | None
    status: str
    error: str | None
    summary: dict[str, Any] | None


class JobRunView(Contract):
    id: int
    job: str
    instance: str
    started_at: Time | None
    finished_at: Time | None
    status: str
    counts: dict[str, Any] | None
    error: str | None


class TaskView(TaskData):
    instance: int
    note: str | None
    alert_id: int | None
    subsidy_id: int | None
    updated_by: str | None
    overdue: bool


class ChangedTask(TaskData):
    note: str | None
    updated_by: str | None


class Sheet(Contract):
    """The printable task sheet's content, as JSON, in local time."""
    lang: Literal["zh", "en"]
    generated: str
    timezone: str
    region: dict[str, Any]
    alerts: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    subsidy: list[dict[str, Any]]


class ProgressRow(Contract):
    code: str
    name: str
    tasks: int
    overdue: int
    open: int
    acknowledged: int
    in_progress: int
    done: int
    not_needed: int
    done_share: float | None = Field(description="done / (tasks - not needed); null when none is needed")


class Progress(Contract):
    items: list[ProgressRow]


class Imported(Contract):
    imported: int


class SubscriptionView(Contract):
    name: str
    channel: str
    url: str = Field(description="robot keys in the URL hidden")
    regions: list[str]
    events: list[str]
    format: str
    lang: str
    recipients: int
    batch: int | None
    source: str
    enabled: bool
    health: Literal["delivering", "failing", "disabled"]
    previous_secret_until: Time | None = Field(description="after a rotation, the old secret still signs until then")
    disabled_reason: str | None
    failing_since: Time | None
    created_at: Time | None


class ListedSubscription(SubscriptionView):
    parked: int = Field(description="messages parked for replay")


class Removed(Contract):
    removed: str
    parked: int


class Queued(Contract):
    queued: int


class DeliveryView(Contract):
    message_id: str
    subscription: str
    event_type: str
    status: Literal["pending", "delivered", "parked"]
    attempts: int
    created_at: Time
    next_attempt_at: Time | None
    delivered_at: Time | None
    last_error: str | None


class Attempt(Contract):
    at: Time
    outcome: str
    http_status: int | None
    latency_ms: float | None
    error: str | None


class DeliveryDetail(DeliveryView):
    data: dict[str, Any]
    history: list[Attempt] = Field(description="every attempt, oldest first (`attempts` counts them)")


class ListedRegion(Region):
    assessed: bool = Field(description="false: no forecast point, so no level can be judged")
    level: Level | None
    open_alerts: int


class AlertView(AlertEvent):
    issued_at: Time
    updated_at: Time | None
    resolved_at: Time | None
    resolve_reason: str | None


class RegionDetail(Region):
    assessed: bool
    rule_version: str
    thresholds: dict[str, Any]
    alerts: list[AlertView]


class DecisionView(Contract):
    id: int
    region_code: str
    hazard: str
    action: Literal["raise", "stand_down"]
    level: Level | None
    reason: str
    actor: str
    created_at: Time
    expires_at: Time
    cleared_at: Time | None
    cleared_by: str | None


class SubsidyView(SubsidyEvent):
    started: bool
    decided_at: Time | None


class RulesView(Contract):
    version: str
    text: str
    content: dict[str, Any]


class RulesValid(Contract):
    valid: bool
    version: str


class RulesInForce(Contract):
    version: str
    in_force_from: str


class PreviewChange(Contract):
    region_code: str
    hazard: str
    current_level: str | None
    edited_level: str | None
    change: Literal["added", "raised", "lowered", "removed"]


class PreviewScores(Contract):
    hits: int
    misses: int
    false_alarms: int
    pod: float | None
    far: float | None
    csi: float | None


class PreviewScoreRow(Contract):
    source: ScoreSource
    hazard: Hazard
    level: Level
    current: PreviewScores = Field(description="under the rules in force, over the replayed cycles")
    edited: PreviewScores = Field(description="under the edited rules (each judged by its own reading of what happened)")


class Preview(Contract):
    days: int
    cycles_replayed: int
    totals: dict[str, int]
    changes: list[PreviewChange]
    scores: list[PreviewScoreRow] = Field(description="how each rule set would have scored against what later "
                                                      "cycles saw (see GET /verification)")


class RuleVersionView(Contract):
    version: str
    actor: str | None
    reason: str | None
    created_at: Time | None


class AuditView(Contract):
    id: int
    at: Time
    actor: str
    action: str
    target: str
    reason: str | None
    before: Any
    after: Any


MEASURE = r"^[a-z][a-z0-9_]{0,63}$"
Figure = Annotated[int, Field(ge=0, le=10**12, strict=True)]


class OutcomeFigures(Body):
    figures: dict[Annotated[str, StringConstraints(pattern=MEASURE)], Figure] = Field(
        min_length=1, description="running totals for the task, by measure (GET …/outcomes lists the task's)")


class OutcomeReply(Body):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=SAID)] = Field(
        description="a chat reply: the task's number, then measures and figures, as 任务 1234 巡查 12 救助 30")


class Words(Contract):
    zh: str
    en: str


class MeasureView(Contract):
    key: str
    name: Words
    unit: Words


class OutcomeReview(Contract):
    kind: Literal["lower_than_before", "above_caseload"]
    limit: int


class TaskOutcomes(Contract):
    task_id: int
    measures: list[MeasureView]
    figures: dict[str, int]


class RecordedOutcomes(Contract):
    task_id: int
    figures: dict[str, int]
    changed: list[str]
    reviews: dict[str, OutcomeReview] = Field(description="figures stored but flagged for review, and why")
    said: Words = Field(description="what was recorded, in words a chat robot can post back")


class OutcomeReportQuery(Query):
    by: Literal["county", "prefecture", "province", "nation"] = "province"
    area: Annotated[str, StringConstraints(pattern=COUNTY)] | None = Field(None, description="only within this area")
    start: date
    until: date
    since: date | None = Field(None, description="the campaign's first day: the cumulative figures count from it")


class OutcomeRow(Contract):
    area: str
    name: str
    measure: str
    period: int
    campaign: int
    counties_reported: int


class OutcomeReport(Contract):
    items: list[OutcomeRow]


class VerificationQuery(Query):
    since: Instant | None = Field(None, description="cycles run on or after this time (ISO 8601 with its zone)")
    until: Instant | None = Field(None, description="cycles run on or before this time")
    by: one_or_more_of(BREAKDOWNS, "also break the tables down by lead day, province and/or month") | None = None
    province: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}0000$")] | None = Field(
        None, description="only this province's regions (a code as 220000)")



class ContingencyRow(Contract):
    source: ScoreSource = Field(description="deterministic: the level forecast; ensemble_prepare / ensemble_act: the "
                                            "members' share reaching the region's prepare / act share")
    hazard: Hazard
    level: Level
    lead_d: int | None = Field(None, description="days from the cycle's local day to the forecast day")
    province: str | None = None
    month: int | None = None
    hits: int
    misses: int
    false_alarms: int
    pod: float | None = Field(description="Probability Of Detection: hits / (hits + misses); null: nothing happened")
    far: float | None = Field(description="False Alarm Ratio: false alarms / (hits + false alarms); null: never forecast")
    csi: float | None = Field(description="Critical Success Index: hits / (hits + misses + false alarms)")


class LeadTimeRow(Contract):
    source: ScoreSource
    hazard: Hazard
    level: Level
    province: str | None = None
    month: int | None = None
    events_warned: int = Field(description="events (a region's day at the level) forecast by at least one cycle")
    mean_lead_h: float = Field(description="mean of each event's longest warning lead, to the start of its local day")


class BrierRow(Contract):
    hazard: Hazard
    level: Level
    lead_d: int | None = None
    province: str | None = None
    month: int | None = None
    forecasts: int
    brier: float = Field(description="mean of (share of members - what happened)²: 0 is perfect")


class ReliabilityRow(Contract):
    hazard: Hazard
    level: Level
    bin_from_pct: int
    bin_to_pct: int
    forecasts: int
    mean_probability: float
    observed_frequency: float = Field(description="how often the forecasts in the bin came true")


class Verification(Contract):
    cycles: int = Field(description="stored cycles scored: one a Beijing day, the one nearest its 08:00 "
                                    "briefing (each hourly cycle would count each model run many times)")
    observations: int = Field(description="pulls of the observed series (feeds.observed) that said what happened; "
                                          "0: it was read from later cycles' past days")
    first_cycle: datetime | None
    last_cycle: datetime | None
    by: list[str]
    province: str | None
    contingency: list[ContingencyRow]
    lead_times: list[LeadTimeRow]
    brier: list[BrierRow]
    reliability: list[ReliabilityRow]
