"""One cycle: pull -> assess -> reconcile -> plan -> persist and enqueue (one transaction) -> deliver."""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triggers.coldwave import assess_cold_wave
from triggers.model import Decision, OpenAlert
from triggers.playbook import PlannedTask, plan_tasks
from triggers.pricelink import assess_price_linkage, subsidy_amounts
from triggers.reconcile import reconcile
from triggers.weather import daily_weather
from warning import delivery
from warning.caseload import caseload_records, shelters_by_region
from warning.events import Outbox, alert_data, subsidy_data, tasklist_data
from warning.feeds import Pulled
from warning.feeds.scenario import Scenario
from warning.models import Alert, CycleRun, FeedRun, Subsidy, Task, utcnow
from warning.runtime import Runtime
from warning.subscriptions import sync_config_subscriptions

log = logging.getLogger(__name__)


@dataclass
class Stopwatch:
    timings_ms: dict = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000  # stages may run in parts: add them up
            self.timings_ms[name] = round(self.timings_ms.get(name, 0) + elapsed, 1)


@dataclass
class Inputs:
    forecast: pd.DataFrame
    cpi: pd.DataFrame
    pulled: list[Pulled]


def frames(pulled: list[Pulled], feed: str) -> pd.DataFrame:
    ok = [p.frame for p in pulled if p.feed == feed and p.ok]
    return pd.concat(ok, ignore_index=True) if ok else pd.DataFrame()


def pull(scenario: Scenario) -> Inputs:
    pulled = scenario.pull_forecasts() + scenario.pull_cpi()
    for failed in (p for p in pulled if not p.ok):
        log.warning("feed rejected", extra={"feed": failed.feed, "source": failed.source, "error": failed.error})
    return Inputs(frames(pulled, "forecast"), frames(pulled, "cpi"), pulled)


def run_cycle(rt: Runtime, scenario: Scenario, deliver: bool = True) -> dict:
    """Run one cycle on a scenario; returns the summary (also stored on the cycle_runs row)."""
    cycle_id, watch, as_of = str(uuid.uuid4()), Stopwatch(), scenario.now
    with rt.sessions.begin() as session:
        session.add(CycleRun(id=cycle_id, started_at=utcnow(), as_of=as_of, scenario=scenario.name,
                             status="running"))
    try:
        summary = cycle_body(rt, scenario, cycle_id, as_of, watch, deliver)
    except Exception as error:
        finish(rt, cycle_id, "failed", {"timings_ms": watch.timings_ms}, f"{type(error).__name__}: {error}")
        raise
    finish(rt, cycle_id, "ok", summary)
    return summary


def cycle_body(rt: Runtime, scenario: Scenario, cycle_id: str, as_of: datetime, watch: Stopwatch,
               deliver: bool) -> dict:
    config = rt.config
    with watch.stage("pull"):
        inputs = pull(scenario)
    with watch.stage("assess"):
        thresholds = config.rules.thresholds(config.regions)
        tz_by_code = config.regions.set_index("code")["timezone"]
        daily = daily_weather(inputs.forecast, tz_by_code)
        assessments = assess_cold_wave(daily, thresholds, tz_by_code, config.rules, as_of)
        prices = (assess_price_linkage(inputs.cpi, config.regions, thresholds, as_of)
                  if not inputs.cpi.empty else pd.DataFrame())
    with rt.sessions.begin() as session:
        sync_config_subscriptions(session, config.subscriptions)
        record_feed_runs(session, cycle_id, inputs.pulled)
        with watch.stage("reconcile"):
            open_alerts = load_open_alerts(session)
            quiet_limits = thresholds["resolve_after_quiet_cycles"].to_dict()
            decisions = reconcile(list(open_alerts.values()), assessments, as_of,
                                  config.rules.reconcile, quiet_limits)
        with watch.stage("persist"):
            outbox = Outbox(session, cycle_id, utcnow(), rt.settings.delivery.retry_schedule_s[0])
            writer = CycleWriter(session, rt, outbox, as_of, watch)
            alert_counts = writer.apply_decisions(decisions, open_alerts)
            subsidies = writer.apply_price_decisions(prices, thresholds)
    deliveries = Counter(delivered=0, failed=0, parked=0)
    if deliver:
        with watch.stage("deliver"):
            deliveries = delivery.drain(rt.sessions, rt.http, rt.settings.delivery)
    return {
        "cycle_id": cycle_id, "scenario": scenario.name, "as_of": as_of.isoformat(),
        "regions_assessed": int(daily["region_code"].nunique()) if not daily.empty else 0,
        "feeds": {"ok": sum(p.ok for p in inputs.pulled), "rejected": [p.error for p in inputs.pulled if not p.ok]},
        "alerts": alert_counts, "tasks_created": writer.tasks_created, "subsidies": subsidies,
        "messages_enqueued": outbox.enqueued, "deliveries": dict(deliveries),
        "timings_ms": watch.timings_ms,
    }


def finish(rt: Runtime, cycle_id: str, status: str, summary: dict, error: str | None = None) -> None:
    with rt.sessions.begin() as session:
        run = session.get(CycleRun, cycle_id)
        run.status, run.finished_at, run.summary, run.error = status, utcnow(), summary, error


def record_feed_runs(session: Session, cycle_id: str, pulled: list[Pulled]) -> None:
    for p in pulled:
        session.add(FeedRun(
            cycle_id=cycle_id, feed=p.feed, source=p.source[:500], fetched_at=utcnow(),
            status="ok" if p.ok else "rejected", rows=len(p.frame) if p.ok else 0, error=p.error,
            request=p.request, payload_gzip=gzip.compress(p.payload),
            payload_sha256=hashlib.sha256(p.payload).hexdigest()))


def load_open_alerts(session: Session) -> dict[tuple[str, str], Alert]:
    return {(a.region_code, a.hazard): a
            for a in session.scalars(select(Alert).where(Alert.status == "open"))}


def as_open_alert(alert: Alert) -> OpenAlert:
    return OpenAlert(alert.id, alert.region_code, alert.hazard, alert.level, alert.stage,
                     alert.onset, alert.ends, alert.quiet_cycles)


class CycleWriter:
    """Applies decisions: alerts, tasks, subsidies and their outbox messages, in one session."""

    def __init__(self, session: Session, rt: Runtime, outbox: Outbox, as_of: datetime, watch: Stopwatch):
        self.session, self.rt, self.outbox, self.as_of, self.watch = session, rt, outbox, as_of, watch
        self.regions = rt.config.regions.set_index("code", drop=False).to_dict("index")
        self.caseloads = caseload_records(session)
        self.shelters = shelters_by_region(session)
        self.tasks_created = 0

    def apply_decisions(self, decisions: list[Decision], open_alerts: dict) -> dict:
        counts = {"issued": 0, "updated": 0, "resolved": 0}
        for decision in decisions:
            alert = open_alerts.get((decision.region_code, decision.hazard))
            getattr(self, f"_{decision.action}")(decision, alert)
            if decision.sends:
                counts[{"issue": "issued", "update": "updated", "resolve": "resolved"}[decision.action]] += 1
        self.session.flush()
        open_now = self.session.execute(select(Alert.level, func.count()).where(Alert.status == "open")
                                        .group_by(Alert.level)).all()
        counts["by_level"] = {level: n for level, n in open_now}
        return counts

    def _issue(self, decision: Decision, _alert) -> None:
        a = decision.assessment
        episode = (self.session.scalar(select(func.max(Alert.episode)).where(
            Alert.region_code == a.region_code, Alert.hazard == a.hazard)) or 0) + 1
        alert = Alert(region_code=a.region_code, hazard=a.hazard, episode=episode, status="open",
                      issued_at=self.as_of, resolved_at=None, resolve_reason=None)
        self._fill(alert, decision)
        self.session.add(alert)
        self.session.flush()
        self.outbox.add("alert.issued", a.region_code, alert_data(alert, self.regions[a.region_code]))
        self._plan(alert)

    def _update(self, decision: Decision, alert: Alert) -> None:
        previous = alert.level
        self._fill(alert, decision)
        self.outbox.add("alert.updated", alert.region_code,
                        alert_data(alert, self.regions[alert.region_code], previous, decision.reason))
        self._plan(alert)

    def _keep(self, decision: Decision, alert: Alert) -> None:
        self._fill(alert, decision)  # fresher numbers, same state: stored, not sent

    def _quiet(self, decision: Decision, alert: Alert) -> None:
        alert.quiet_cycles = decision.quiet_cycles

    def _resolve(self, decision: Decision, alert: Alert) -> None:
        alert.status, alert.resolved_at, alert.resolve_reason = "resolved", self.as_of, decision.reason
        alert.quiet_cycles, alert.updated_at = decision.quiet_cycles, self.as_of
        for task in self.session.scalars(select(Task).where(Task.alert_id == alert.id, Task.status == "open")):
            task.status, task.updated_at = "not_needed", self.as_of
            task.note = f"alert resolved: {decision.reason}"
        self.outbox.add("alert.resolved", alert.region_code,
                        alert_data(alert, self.regions[alert.region_code], alert.level, decision.reason))

    def _fill(self, alert: Alert, decision: Decision) -> None:
        a = decision.assessment
        alert.level, alert.stage, alert.onset, alert.ends = a.level, a.stage, a.onset, a.ends
        alert.lead_time_h, alert.evidence, alert.rule_version = a.lead_time_h, a.evidence.as_dict(), a.rule_version
        alert.quiet_cycles, alert.updated_at = 0, self.as_of

    def _plan(self, alert: Alert) -> None:
        existing = frozenset(self.session.scalars(select(Task.type).where(Task.alert_id == alert.id)))
        with self.watch.stage("plan"):
            planned = plan_tasks(self.rt.config.playbook, hazard=alert.hazard, level=alert.level,
                                 stage=alert.stage, onset=alert.onset, now=self.as_of,
                                 caseload=self.caseloads.get(alert.region_code),
                                 shelters=self.shelters.get(alert.region_code, []), existing_types=existing)
        self._add_tasks(planned, alert.region_code, alert=alert)

    def _add_tasks(self, planned: list[PlannedTask], region_code: str, alert: Alert | None = None,
                   subsidy: Subsidy | None = None) -> None:
        if not planned:
            return
        tasks = [Task(region_code=region_code, alert_id=alert.id if alert else None,
                      subsidy_id=subsidy.id if subsidy else None, type=p.type, rule=p.rule,
                      status="open", due_at=p.due_at, quantities=p.quantities, role=p.role,
                      title=p.title, instructions=p.instructions, created_at=self.as_of,
                      updated_at=self.as_of) for p in planned]
        self.session.add_all(tasks)
        self.session.flush()
        self.tasks_created += len(tasks)
        self.outbox.add("tasklist.issued", region_code,
                        tasklist_data(self.regions[region_code], tasks, alert, subsidy))

    def apply_price_decisions(self, prices: pd.DataFrame, thresholds: pd.DataFrame) -> dict:
        """One decision per (region, month), made once; started ones get a subsidy and a task."""
        counts = {"decided": 0, "started": 0, "total_yuan": 0.0}
        if prices.empty:
            return counts
        decided = set(self.session.execute(select(Subsidy.region_code, Subsidy.month)).all())
        new = prices[[(r, m) not in decided for r, m in zip(prices["region_code"], prices["month"])]]
        caseload = pd.DataFrame(list(self.caseloads.values()))
        started = new[new["started"]]
        amounts = (subsidy_amounts(started, caseload, thresholds).set_index("region_code")
                   if not caseload.empty and not started.empty else pd.DataFrame())
        for row in new.to_dict("records"):
            amount = amounts.loc[row["region_code"]].to_dict() if row["region_code"] in amounts.index else {}
            subsidy = self._subsidy(row, amount)
            counts["decided"] += 1
            if subsidy.started:
                counts["started"] += 1
                counts["total_yuan"] += subsidy.total_yuan or 0.0
        counts["total_yuan"] = round(counts["total_yuan"], 2)
        return counts

    def _subsidy(self, row: dict, amount: dict) -> Subsidy:
        recipients = (int(amount["recipients_urban"] + amount["recipients_rural"]) if amount else None)
        subsidy = Subsidy(
            region_code=row["region_code"], month=row["month"], started=bool(row["started"]),
            triggered_by=row["triggered_by"], index_area=row["index_area"], index_scope=row["index_scope"],
            cpi_yoy=float(row["cpi_yoy"]), food_cpi_yoy=float(row["food_cpi_yoy"]),
            rise_pct=float(row["rise_pct"]), released_on=row["released_on"].to_pydatetime(),
            per_person_urban=amount.get("per_person_urban"), per_person_rural=amount.get("per_person_rural"),
            recipients=recipients, total_yuan=amount.get("total_yuan"),
            rule_version=self.rt.config.rules.version, decided_at=self.as_of)
        self.session.add(subsidy)
        if not subsidy.started:
            return subsidy
        self.session.flush()
        region = self.regions[subsidy.region_code]
        self.outbox.add("subsidy.issued", subsidy.region_code, subsidy_data(subsidy, region))
        with self.watch.stage("plan"):
            planned = plan_tasks(
                self.rt.config.playbook, hazard="price_linkage", level="start", stage="act",
                onset=subsidy.released_on, now=self.as_of, caseload=self.caseloads.get(subsidy.region_code),
                shelters=[], subsidy={"amount_yuan": subsidy.total_yuan, "month": subsidy.month,
                                      "per_person_urban": subsidy.per_person_urban,
                                      "per_person_rural": subsidy.per_person_rural,
                                      "recipients": subsidy.recipients})
        self._add_tasks(planned, subsidy.region_code, subsidy=subsidy)
        return subsidy
