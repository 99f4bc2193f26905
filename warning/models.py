"""The tables. Times are stored in UTC (UtcDateTime keeps them aware on every database)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, String, Text, TypeDecorator, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; coldwarn stores aware UTC times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# A county's six digits or a township's nine (wide enough for the twelve-digit statistical codes).
RegionCode = String(12)


def partial(condition: str) -> dict:
    """An index's WHERE, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict: JSON, list: JSON}


class CycleRun(Base):
    __tablename__ = "cycle_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    as_of: Mapped[datetime]  # the cycle's "now": the wall clock, or a scenario's
    scenario: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # running, ok, failed
    summary: Mapped[dict | None]
    error: Mapped[str | None] = mapped_column(Text)


class LoginFailure(Base):
    """A failed login: counted per name and per address to throttle password guessing on every instance."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))


class JobRun(Base):
    """One run of a scheduled job on one instance: when, how it went, what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    instance: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running, ok, failed
    counts: Mapped[dict | None]
    error: Mapped[str | None] = mapped_column(Text)


class FeedRun(Base):
    """One pull of one feed, with the raw payload kept (gzip) for audit and replay."""

    __tablename__ = "feed_runs"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    cycle_id: Mapped[str | None] = mapped_column(String(36), index=True)
    feed: Mapped[str] = mapped_column(String(32))  # forecast, cpi, warnings
    format: Mapped[str] = mapped_column(String(32), default="")  # which parser reads the payload
    key: Mapped[str] = mapped_column(String(80), default="", index=True)  # same request, same key
    source: Mapped[str] = mapped_column(String(500))
    fetched_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # ok, rejected (bad payload), failed (no payload), reused (not due)
    attempts: Mapped[int] = mapped_column(default=1)
    elapsed_ms: Mapped[float] = mapped_column(Float, default=0)
    fallback_from: Mapped[int | None]  # the earlier good run used instead of this one
    rows: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # read, with something worth saying (one per line)
    request: Mapped[dict | None]
    payload_gzip: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))


class Caseload(Base):
    __tablename__ = "caseloads"
    region_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    dibao_urban: Mapped[int]
    dibao_rural: Mapped[int]
    tekun_urban: Mapped[int]
    tekun_rural: Mapped[int]
    ill_disabled: Mapped[int]
    elderly_alone: Mapped[int]
    orphans: Mapped[int]
    unsupported_children: Mapped[int]
    rough_sleepers: Mapped[int]
    dibao_standard_urban: Mapped[float]
    dibao_standard_rural: Mapped[float]
    tekun_standard_urban: Mapped[float]
    tekun_standard_rural: Mapped[float]
    source: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class Shelter(Base):
    __tablename__ = "shelters"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode, index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    capacity: Mapped[int]


class Alert(Base):
    """One episode of one hazard in one region: issued, updated, resolved."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("region_code", "hazard", "episode"),
                      Index("ix_alerts_open", "status", "hazard"))
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    hazard: Mapped[str] = mapped_column(String(32))
    episode: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # open, resolved
    level: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    onset: Mapped[datetime]
    ends: Mapped[datetime]
    lead_time_h: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict]
    rule_version: Mapped[str] = mapped_column(String(40))
    quiet_cycles: Mapped[int] = mapped_column(default=0)
    issued_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolve_reason: Mapped[str | None] = mapped_column(String(200))


class Subsidy(Base):
    """One price-linkage decision per (region, month): made once, never changed by re-runs."""

    __tablename__ = "subsidies"
    __table_args__ = (UniqueConstraint("region_code", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    month: Mapped[str] = mapped_column(String(7))
    started: Mapped[bool] = mapped_column(Boolean)
    triggered_by: Mapped[str] = mapped_column(String(8))
    amount_by: Mapped[str | None] = mapped_column(String(8))  # cpi or food: whose rise set the amount
    index_area: Mapped[str] = mapped_column(RegionCode)
    index_scope: Mapped[str] = mapped_column(String(16))
    cpi_yoy: Mapped[float]
    food_cpi_yoy: Mapped[float]
    rise_pct: Mapped[float]
    released_on: Mapped[datetime]
    per_person_urban: Mapped[float | None]
    per_person_rural: Mapped[float | None]
    recipients: Mapped[int | None]
    total_yuan: Mapped[float | None]
    rule_version: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime]


class Festival(Base):
    """One festival decision per (region, festival, day), made once when it comes within notice: when
    benefits must be paid by, and the holiday subsidy the region's rules set (none: 0)."""

    __tablename__ = "festivals"
    __table_args__ = (UniqueConstraint("region_code", "festival", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    festival: Mapped[str] = mapped_column(String(32))  # new_year, spring_festival
    day: Mapped[date] = mapped_column(Date)
    pay_by: Mapped[datetime]
    per_person_yuan: Mapped[float]
    recipients: Mapped[int | None]
    total_yuan: Mapped[float | None]
    rule_version: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime]


class Task(Base):
    __tablename__ = "tasks"
    # One task of a type and instance per alert or subsidy: a cycle overlapping another (a leader that
    # lost its lock) fails on its commit instead of doubling a county's list.
    __table_args__ = (Index("ix_tasks_region_status", "region_code", "status"),
                      Index("ux_tasks_alert_type_instance", "alert_id", "type", "instance", unique=True),
                      Index("ux_tasks_subsidy_type_instance", "subsidy_id", "type", "instance", unique=True),
                      Index("ux_tasks_festival_type_instance", "festival_id", "type", "instance", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    subsidy_id: Mapped[int | None] = mapped_column(ForeignKey("subsidies.id"), index=True)
    festival_id: Mapped[int | None] = mapped_column(ForeignKey("festivals.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # open, acknowledged, in_progress, done, not_needed
    due_at: Mapped[datetime]
    quantities: Mapped[dict]
    role: Mapped[dict]
    title: Mapped[dict]
    instructions: Mapped[dict]
    note: Mapped[str | None] = mapped_column(Text)
    instance: Mapped[int] = mapped_column(default=1)  # repeated tasks (daily visits) count up
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # when the overdue reminder went out (once)


class Subscription(Base):
    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    secrets: Mapped[list]
    regions: Mapped[list]
    events: Mapped[list]
    format: Mapped[str] = mapped_column(String(16))  # json, cap, alertmanager (migration 0019)
    channel: Mapped[str] = mapped_column(String(16), default="webhook")  # webhook, wecom, dingtalk, email, sms
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    options: Mapped[dict] = mapped_column(default=dict)  # sms: to, body, headers
    source: Mapped[str] = mapped_column(String(16))  # config, api, cli
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    failing_since: Mapped[datetime | None]  # first failure since the last success
    leased_until: Mapped[datetime | None]  # a worker is sending its messages until then (migration 0014)
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """One message per (subscription, event), written in the transaction that made the event."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_alert", "subscription_id", "alert_id"),
                      # (partial, so small: what claiming looks up per subscriber; migration 0013)
                      Index("ix_outbox_pending_by_subscriber", "subscription_id", "next_attempt_at", "id",
                            **partial("status = 'pending'")),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    cycle_id: Mapped[str | None] = mapped_column(String(36))
    alert_id: Mapped[int | None]  # the alert an event is about: what a CAP Update or Cancel references
    event_type: Mapped[str] = mapped_column(String(32))
    event_time: Mapped[datetime]
    data: Mapped[dict]
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, parked
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempted_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None]
    latency_ms: Mapped[float]
    error: Mapped[str | None] = mapped_column(Text)


class ManualCpi(Base):
    """A CPI figure entered by an admin; it wins over a feed's figure for the same area and month."""

    __tablename__ = "cpi_manual"
    __table_args__ = (UniqueConstraint("area_code", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(RegionCode)
    month: Mapped[str] = mapped_column(String(7))
    cpi_yoy: Mapped[float]
    food_cpi_yoy: Mapped[float]
    released_on: Mapped[datetime]
    entered_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime]


class AuditEntry(Base):
    """Who changed what, when and why."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict | None]
    after: Mapped[dict | None]


class FeedStatus(Base):
    """Freshness of each feed, so a stale feed is announced once, not every cycle."""

    __tablename__ = "feed_status"
    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_ok_at: Mapped[datetime | None]
    stale_since: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin, province, county, viewer
    region_code: Mapped[str | None] = mapped_column(RegionCode)  # the province or county of scoped roles
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class LoginSession(Base):
    """A console login, held on the server: logging out ends it, so a copied cookie stops working.
    The cookie carries the token; only its SHA-256 is stored."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a leaked database leaks no usable token."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in listings to tell tokens apart
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ManualAlertDecision(Base):
    """An admin's raise or stand-down of one (region, hazard), held until it expires or is cleared."""

    __tablename__ = "manual_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode, index=True)
    hazard: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # raise, stand_down
    level: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(100))


class RuleVersion(Base):
    """Every rule set that has been in force: its content, who brought it, when and why."""

    __tablename__ = "rule_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), index=True)
    content: Mapped[dict]
    text: Mapped[str | None] = mapped_column(Text)  # the YAML as written; None where it was not kept
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class MetricTally(Base):
    """A running total behind /metrics: a counter, or one bucket, sum or count of a histogram (warning.tallies)."""

    __tablename__ = "metric_tallies"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    labels: Mapped[str] = mapped_column(String(400), primary_key=True)  # sorted [[name, value], …] as JSON
    value: Mapped[float] = mapped_column(Float)


class OutcomeReport(Base):
    """A figure a county reported for a task: the measure's running total for that task as of
    `reported_at` (a later report replaces it; the rows are the history). Roll-ups take, per task
    and measure, the last total before a period's end less the last before its start."""

    __tablename__ = "outcome_reports"
    __table_args__ = (Index("ix_outcome_reports_task_measure", "task_id", "measure", "reported_at"),
                      Index("ix_outcome_reports_reported_at", "reported_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    region_code: Mapped[str] = mapped_column(RegionCode, index=True)
    task_type: Mapped[str] = mapped_column(String(64))
    measure: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(BigInteger)
    reported_at: Mapped[datetime]
    reported_by: Mapped[str] = mapped_column(String(100))
    via: Mapped[str] = mapped_column(String(16))  # console, api, reply, demo
    review: Mapped[str | None] = mapped_column(Text)  # why the figure is flagged for review, if it is


class DayRecordRow(Base):
    """What one cycle forecast for each region's local days, kept for verification (triggers.verification):
    the level of each daily rule, deterministic and per ensemble member, as compressed arrays."""

    __tablename__ = "day_records"
    cycle_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # or a scenario history snapshot's id
    kind: Mapped[str] = mapped_column(String(16), default="cycle")  # cycle, history, observed (what happened)
    as_of: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime]
    scenario: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
