"""Events and the outbox: what subscribers receive, enqueued in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from notifiers.schemas import SCHEMA_VERSION
from triggers.levels import HAZARD_NAMES, LEVEL_NAMES
from triggers.regioncodes import area_prefix
from warning.db import write_rows
from warning.models import Alert, OutboxMessage, Subscription, Subsidy, Task



def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def region_info(region: dict) -> dict:
    return {"code": region["code"], "name": region["name"],
            "prefecture": {"code": region["prefecture_code"], "name": region["prefecture_name"]},
            "province": {"code": region["province_code"], "name": region["province_name"]},
            "timezone": region["timezone"]}


def alert_data(alert: Alert, region: dict, previous_level: str | None = None, reason: str = "") -> dict:
    return {"schema_version": SCHEMA_VERSION, "alert_id": alert.id, "region": region_info(region),
            "hazard": alert.hazard, "hazard_name": HAZARD_NAMES[alert.hazard], "episode": alert.episode,
            "status": alert.status, "level": alert.level, "level_name": LEVEL_NAMES[alert.level],
            "previous_level": previous_level, "stage": alert.stage, "onset": iso(alert.onset),
            "ends": iso(alert.ends), "lead_time_h": alert.lead_time_h, "evidence": alert.evidence,
            "rule_version": alert.rule_version, "reason": reason}


def task_data(task: Task) -> dict:
    return {"task_id": task.id, "type": task.type, "status": task.status, "rule": task.rule,
            "due_at": iso(task.due_at), "quantities": task.quantities, "role": task.role,
            "title": task.title, "instructions": task.instructions}


def tasklist_data(region: dict, tasks: list[Task], alert: Alert | None = None,
                  subsidy: Subsidy | None = None) -> dict:
    return {"schema_version": SCHEMA_VERSION, "region": region_info(region),
            "alert_id": alert.id if alert else None, "subsidy_id": subsidy.id if subsidy else None,
            "tasks": [task_data(t) for t in tasks]}


def subsidy_data(subsidy: Subsidy, region: dict) -> dict:
    return {"schema_version": SCHEMA_VERSION, "subsidy_id": subsidy.id, "region": region_info(region),
            "month": subsidy.month, "triggered_by": subsidy.triggered_by,
            "amount_by": subsidy.amount_by,
            "index": {"area_code": subsidy.index_area, "scope": subsidy.index_scope,
                      "cpi_yoy": subsidy.cpi_yoy, "food_cpi_yoy": subsidy.food_cpi_yoy,
                      "released_on": iso(subsidy.released_on)},
            "rise_pct": subsidy.rise_pct, "per_person_yuan": {"urban": subsidy.per_person_urban,
                                                              "rural": subsidy.per_person_rural},
            "recipients": subsidy.recipients, "total_yuan": subsidy.total_yuan,
            "rule_version": subsidy.rule_version}


ALERTS_ONLY = ("cap", "alertmanager")


def covers(subscription: Subscription, region_code: str) -> bool:
    """A subscription's region codes may name a township, county, prefecture (xxxx00) or province (xx0000)."""
    if not subscription.regions:
        return True
    return any(region_code.startswith(area_prefix(code)) for code in subscription.regions)


class Outbox:
    """Fans events out to matching subscriptions, as outbox rows written in the caller's transaction, in
    the order they were added: every WRITE_EVERY_ROWS as they come, the rest when it commits; dropped
    with it if it rolls back. Rows, not ORM objects (a national cycle enqueues tens of thousands, and ORM
    objects were a sixth of its persist stage); written as they come so that a cycle of townships does
    not hold 160,000 of them (~400 MB) until its commit."""

    WRITE_EVERY_ROWS = 2_000

    def __init__(self, session: Session, cycle_id: str | None, now: datetime, first_delay_s: float):
        self.session, self.cycle_id, self.now = session, cycle_id, now
        self.first_attempt_at = now + timedelta(seconds=first_delay_s)
        self.subscriptions = list(session.scalars(select(Subscription).where(Subscription.enabled)))
        self.enqueued = 0
        self.rows: list[dict] = []
        # At every commit and rollback of the session, not just the next: a session may begin again.
        event.listen(session, "before_commit", self.write)
        event.listen(session, "after_rollback", self.drop)

    def add(self, event_type: str, region_code: str, data: dict) -> None:
        for subscription in self.subscriptions:
            if subscription.format in ALERTS_ONLY and not event_type.startswith("alert."):
                continue  # CAP and Alertmanager carry alerts; task lists and subsidies go to JSON subscribers
            if event_type in subscription.events and covers(subscription, region_code):
                self.rows.append({
                    "message_id": f"msg_{uuid.uuid4().hex}", "subscription_id": subscription.id,
                    "cycle_id": self.cycle_id, "alert_id": data.get("alert_id"), "event_type": event_type,
                    "event_time": self.now, "data": data, "status": "pending", "attempts": 0,
                    "next_attempt_at": self.first_attempt_at, "created_at": self.now})
                self.enqueued += 1
        if len(self.rows) >= self.WRITE_EVERY_ROWS:
            self.write(self.session)

    def write(self, session: Session) -> None:
        if self.rows:
            write_rows(session, OutboxMessage.__table__, self.rows)  # (no ORM objects, no RETURNING)
            self.rows = []

    def drop(self, _session: Session) -> None:
        self.rows = []
