"""One cycle: pull -> assess -> reconcile -> plan -> persist and enqueue (one transaction) -> deliver."""

from __future__ import annotations

import logging
import resource
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import SimpleNamespace
from typing import Callable, Protocol
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, defer

from triggers.grid import DEFAULT_ZONE, DailyGrid, HourlyGrid
from triggers.engine import assess_weather
from triggers.ensemble import EnsembleDaily
from triggers.festivals import FESTIVAL_NAMES, upcoming
from triggers.manual import apply_manual
from triggers.model import Assessment, Decision, OpenAlert
from triggers.playbook import PlannedTask, applicable, plan_repeats, plan_tasks
from triggers.tasks import ACTIVE
from triggers.pricelink import assess_price_linkage, subsidy_amounts
from triggers.reconcile import reconcile
from triggers.regioncodes import COUNTY_DIGITS
from triggers.rules import Rules
from triggers.verification import DayRecord, record_of
from triggers.workdays import end_of_working_days_before
from warning import delivery
from warning.caseload import caseload_records, shelters_by_region
from warning.config import AppConfig
from warning.db import insert_rows
from warning.events import Outbox, alert_data, subsidy_data, tasklist_data
from warning.feeds import Pulled
from warning.feeds.formats import shape_of
from warning.feeds.freshness import update_freshness
from warning.feeds.replay import ReplaySource
from warning.feeds.scenario import Scenario
from warning.feeds.warnings import active_warnings
from warning.leader import SEED_LOCK, Leadership, cluster_lock
from warning.logs import cycle_id_var
from warning.manual_alerts import active_decisions
from warning.models import Alert, CycleRun, DayRecordRow, FeedRun, Festival, ManualCpi, Subsidy, Task, utcnow
from warning.rule_versions import record_version
from warning.runtime import Runtime
from warning.scenario_data import ensure_scenario_outcomes
from warning.subscriptions import sync_config_subscriptions
from warning.tallies import Tally
from warning.tasks import remind_overdue

log = logging.getLogger(__name__)


@dataclass
class Stopwatch:
    timings_ms: dict = field(default_factory=dict)
    high_water_mb: dict = field(default_factory=dict)  # the process's peak memory when each stage ended
    on_stage: Callable[[str], None] | None = None  # told each time a stage (or part of one) ends

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000  # stages may run in parts: add them up
            self.timings_ms[name] = round(self.timings_ms.get(name, 0) + elapsed, 1)
            self.high_water_mb[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            if self.on_stage:
                self.on_stage(name)


class Source(Protocol):
    """Where a cycle's feeds come from: a scenario, the live providers, or a replay."""

    name: str

    @property
    def now(self) -> datetime: ...

    def pull(self, regions: pd.DataFrame) -> list[Pulled]: ...


@dataclass
class Inputs:
    pulled: list[Pulled]
    fetched_at: dict[int, datetime]  # id(pulled) -> when the payload in use was fetched

    def frames(self, shape: str) -> pd.DataFrame:
        ok = [p.data for p in self.pulled if p.ok and shape_of(p) == shape]
        return pd.concat(ok, ignore_index=True) if ok else pd.DataFrame()

    @cached_property
    def hourly(self) -> HourlyGrid:
        """The hourly forecast's pieces gathered into one grid, once; each request's piece is let go as it
        is copied in, so a national pull holds its values once, not twice."""
        taken = [p for p in self.pulled if p.ok and shape_of(p) == "hourly"]
        pieces = [p.data for p in taken]
        if None in pieces:
            raise RuntimeError("the hourly forecast was gathered and let go already")
        for p in taken:
            p.data = None
        return HourlyGrid.joined(pieces)

    def let_go_of_hourly(self) -> None:
        """Once assessed, the hourly grid goes before the cycle writes its rows (430 MB for townships)."""
        self.__dict__.pop("hourly", None)

    def data_times(self) -> dict[str, list[datetime | None]]:
        times: dict[str, list] = {}
        for p in self.pulled:
            times.setdefault(p.feed, []).append(self.fetched_at.get(id(p)))
        return times


def pull(source: Source, regions: pd.DataFrame, rt: Runtime) -> Inputs:
    """Pull everything; a payload that failed or was refused is replaced by its last good one, as is one
    not fetched this cycle (a feed on its own schedule: read once, then kept while cycles reuse it)."""
    pulled, fetched_at, now, reused = source.pull(regions), {}, utcnow(), {}
    with rt.sessions() as session:
        for p in pulled:
            if p.ok:
                fetched_at[id(p)] = now
                continue
            if not p.reused:
                log.warning("feed failed: %s: %s", p.source, p.error)
            good = last_good(session, p.key)
            if good is not None:
                again = rt.reused_payloads.get(good.id) if p.reused else None
                if again is None:
                    again = ReplaySource.again(good)  # (its payload loaded only here)
                if p.reused:
                    reused[good.id] = again
                p.data, p.rows, p.fallback_from, fetched_at[id(p)] = again.data, again.rows, good.id, good.fetched_at
            elif p.reused:  # (pruned or rolled back since the source looked)
                p.error = f"{p.source}: no earlier payload to reuse"
    rt.reused_payloads = reused  # (those no longer reused are let go)
    return Inputs(pulled, fetched_at)


GOOD_RUN = (FeedRun.status == "ok", FeedRun.payload_gzip.is_not(None))  # fetched, read, and its payload kept


def last_fetched(rt: Runtime, feed: str) -> dict[str, datetime]:
    """When each key of the feed was last fetched good (its payload kept), for sources that reuse it."""
    with rt.sessions() as session:
        return dict(session.execute(select(FeedRun.key, func.max(FeedRun.fetched_at))
                                    .where(FeedRun.feed == feed, *GOOD_RUN).group_by(FeedRun.key)).all())


def last_good(session: Session, key: str) -> FeedRun | None:
    """(Its payload is loaded when read, in the session: a payload already read is not loaded again.)"""
    return session.scalars(select(FeedRun).options(defer(FeedRun.payload_gzip)).where(FeedRun.key == key, *GOOD_RUN)
                           .order_by(FeedRun.fetched_at.desc(), FeedRun.id.desc()).limit(1)).first()


def run_cycle(rt: Runtime, source: Source, deliver: bool = True, lead: Leadership | None = None,
              on_stage: Callable[[str], None] | None = None) -> dict:
    """Run one cycle; returns the summary (also stored on the cycle_runs row). Under `lead`, the
    results are committed only if its lock is still held then (LostLeadership otherwise).
    `on_stage(name)` is told as each stage ends (a progress display)."""
    rt.refresh_rules()
    cycle_id, watch, as_of = str(uuid.uuid4()), Stopwatch(on_stage=on_stage), source.now
    context = cycle_id_var.set(cycle_id)  # every log line of this cycle carries its id
    try:
        with rt.sessions.begin() as session:
            session.add(CycleRun(id=cycle_id, started_at=utcnow(), as_of=as_of, scenario=source.name,
                                 status="running"))
        log.info("cycle started (as of %s, source %s)", as_of.isoformat(), source.name)
        try:
            summary = cycle_body(rt, source, cycle_id, as_of, watch, deliver, lead)
        except Exception as error:
            finish(rt, cycle_id, "failed", {"timings_ms": watch.timings_ms}, f"{type(error).__name__}: {error}")
            log.exception("cycle failed")
            raise
        finish(rt, cycle_id, "ok", summary)
        if isinstance(source, Scenario):
            ensure_scenario_outcomes(rt, source)  # its counties report once their tasks exist
            record_scenario_history(rt, source)
        log.info("cycle finished: %s alerts issued, %s updated, %s resolved, %s messages, stages %s",
                 summary["alerts"]["issued"], summary["alerts"]["updated"], summary["alerts"]["resolved"],
                 summary["messages_enqueued"], summary["timings_ms"])
        return summary
    finally:
        cycle_id_var.reset(context)


def record_scenario_history(rt: Runtime, scenario: Scenario) -> None:
    """The day records of the scenario's earlier cycles (its history snapshots), each assessed as its
    cycle would have been and stored once (an id made from the scenario and the clock), never acted on:
    they give verification what came before the scenario's own cycle."""
    with cluster_lock(rt.engine, SEED_LOCK, wait=True):  # instances starting together: the first records them
        for snapshot in scenario.history():
            record_snapshot(rt, scenario.name, snapshot)


def record_snapshot(rt: Runtime, name: str, snapshot: Scenario) -> None:
    record_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"coldwarn-history:{name}:{snapshot.now.isoformat()}"))
    with rt.sessions() as session:
        if session.get(DayRecordRow, record_id) is not None:
            return
    inputs = Inputs(snapshot.pull(rt.config.regions), {})
    refused = [p.error for p in inputs.pulled if p.error]
    if refused:
        log.warning("scenario history %s: payloads refused: %s", snapshot.now.isoformat(), refused)
    record = assess_inputs(inputs, rt.config, rt.config.rules, snapshot.now).day_record(rt.config.tz_by_code, snapshot.now)
    if record is not None:
        with rt.sessions.begin() as session:
            session.add(DayRecordRow(cycle_id=record_id, kind="history", as_of=snapshot.now, recorded_at=utcnow(),
                                     scenario=f"{name} (history)", body=record.to_bytes()))


def festival_task_types(playbook) -> set[str]:
    """The task types 元旦 and 春节 call for (a payment, a holiday subsidy)."""
    return {t.type for hazard in ("festival", "festival_subsidy") for t in applicable(playbook, hazard, "start", "act")}


def weather_grids(inputs: Inputs, tz_by_code: pd.Series) -> tuple[HourlyGrid, DailyGrid]:
    """The hourly forecast as one grid, and local-day values from it beside those of providers that only
    give days."""
    hourly = inputs.hourly
    return hourly, DailyGrid.of_hours(hourly, tz_by_code).combined(DailyGrid.from_frame(inputs.frames("daily")))


@dataclass
class Assessed:
    thresholds: pd.DataFrame
    daily: DailyGrid
    warnings: pd.DataFrame
    assessments: list[Assessment]
    ensemble: EnsembleDaily
    rules: Rules  # those in force in the cycle's month

    def day_record(self, tz_by_code: pd.Series, as_of: datetime) -> DayRecord | None:
        """What the cycle forecast for each region's days, kept for verification."""
        return record_of(self.daily, self.ensemble, self.thresholds, tz_by_code, self.rules, as_of)


def assess_inputs(inputs: Inputs, config: AppConfig, rules: Rules, as_of: datetime) -> Assessed:
    """Every weather rule over one cycle's feeds: what the cycle acts on, and what a rules preview replays.
    The rules are those in force in the cycle's month (Beijing time), so a replay judges it as then."""
    rules = rules.in_month(as_of.astimezone(ZoneInfo(DEFAULT_ZONE)).strftime("%Y-%m"))
    thresholds = rules.thresholds(config.regions)
    hourly, daily = weather_grids(inputs, config.tz_by_code)
    warnings = active_warnings(inputs.frames("warnings"), as_of)
    ensemble = EnsembleDaily.from_frame(inputs.frames("ensemble"))
    return Assessed(thresholds, daily, warnings,
                    assess_weather(daily, hourly, warnings, thresholds, config.tz_by_code, rules, as_of,
                                   ensemble=ensemble), ensemble, rules)


def observation_record(inputs: Inputs, config: AppConfig, weather: Assessed, as_of: datetime) -> DayRecord | None:
    """The levels of what happened, from an observed series pulled this cycle (not one reused)."""
    fresh = [p.data for p in inputs.pulled if p.ok and not p.reused and shape_of(p) == "observed"]
    if not fresh:
        return None
    daily = DailyGrid.of_hours(HourlyGrid.joined(fresh), config.tz_by_code)
    return record_of(daily, EnsembleDaily.from_frame(pd.DataFrame()), weather.thresholds, config.tz_by_code,
                     weather.rules, as_of)


def cycle_body(rt: Runtime, source: Source, cycle_id: str, as_of: datetime, watch: Stopwatch,
               deliver: bool, lead: Leadership | None) -> dict:
    config = rt.config
    with watch.stage("pull"):
        inputs = pull(source, config.regions, rt)
        with rt.sessions() as session:
            cpi = with_manual_cpi(inputs.frames("cpi"), session)
    with watch.stage("assess"):
        weather = assess_inputs(inputs, config, config.rules, as_of)
        thresholds, daily, warnings, assessments = (weather.thresholds, weather.daily, weather.warnings,
                                                    weather.assessments)
        prices = assess_price_linkage(cpi, config.regions, config.rules, as_of) if not cpi.empty else pd.DataFrame()
        inputs.let_go_of_hourly()
    with watch.stage("record"):
        record = weather.day_record(config.tz_by_code, as_of)
        observation = observation_record(inputs, config, weather, as_of)
    with rt.sessions.begin() as session:
        sync_config_subscriptions(session, config.subscriptions)
        record_version(session, config.rules, "rules.yaml", "in force at this cycle")
        record_feed_runs(session, cycle_id, inputs.pulled)
        if record is not None:
            session.add(DayRecordRow(cycle_id=cycle_id, kind="cycle", as_of=as_of, recorded_at=utcnow(),
                                     scenario=source.name, body=record.to_bytes()))
        if observation is not None:
            session.add(DayRecordRow(cycle_id=str(uuid.uuid4()), kind="observed", as_of=as_of, recorded_at=utcnow(),
                                     scenario=source.name, body=observation.to_bytes()))
        with watch.stage("reconcile"):
            open_alerts = load_open_alerts(session)
            assessments, stood_down = apply_manual(assessments, active_decisions(session), as_of, config.rules.version)
            decisions = reconcile(list(open_alerts.values()), assessments, as_of, config.rules.reconcile,
                                  lambda region, hazard: int(thresholds.at[region, f"{hazard}.resolve_after_quiet_cycles"]),
                                  stood_down)
        with watch.stage("persist"):
            outbox = Outbox(session, cycle_id, utcnow(), rt.settings.delivery.retry_schedule_s[0])
            writer = CycleWriter(session, rt, outbox, as_of, watch)
            alert_counts = writer.apply_decisions(decisions, open_alerts)
            subsidies = writer.apply_price_decisions(prices)
            festivals = writer.apply_festivals()
            freshness = update_freshness(session, inputs.data_times(), utcnow(), rt.settings.feeds.freshness, outbox)
            reminders = remind_overdue(session, config, outbox, as_of)
        if lead is not None:
            lead.confirm(session)  # the last statement before the commit: a cycle that lost its lock keeps nothing
    deliveries = Counter(delivered=0, failed=0, parked=0)
    if deliver:
        with watch.stage("deliver"):
            deliveries = delivery.drain(rt.sessions, rt.http, rt.settings.delivery)
    failures = [p for p in inputs.pulled if p.error]
    return {
        "cycle_id": cycle_id, "scenario": source.name, "as_of": as_of.isoformat(),
        "regions_assessed": daily.regions_with_days(),
        "feeds": {"ok": len(inputs.pulled) - len(failures), "rejected": [p.error for p in failures],
                  "fallbacks": sum(p.fallback_from is not None for p in failures), "freshness": freshness,
                  "notes": [note for p in inputs.pulled if not p.error for note in p.notes]},
        "official_warnings": len(warnings),
        "alerts": alert_counts, "tasks_created": writer.tasks_created, "overdue_reminders": reminders,
        "subsidies": subsidies, "festivals": festivals,
        "messages_enqueued": outbox.enqueued, "deliveries": dict(deliveries),
        "timings_ms": watch.timings_ms,
        "high_water_mb": watch.high_water_mb,
    }


def finish(rt: Runtime, cycle_id: str, status: str, summary: dict, error: str | None = None) -> None:
    with rt.sessions.begin() as session:
        run = session.get(CycleRun, cycle_id)
        run.status, run.finished_at, run.summary, run.error = status, utcnow(), summary, error
        tally = Tally()
        tally.count("coldwarn_cycles", {"status": status})
        for stage, ms in summary.get("timings_ms", {}).items():
            tally.observe("coldwarn_cycle_stage_duration_seconds", {"stage": stage}, ms / 1000)
        tally.write(session)


def record_feed_runs(session: Session, cycle_id: str, pulled: list[Pulled]) -> None:
    with ThreadPoolExecutor(2) as pool:  # (those not packed yet, two at once: zlib lets go of the interpreter)
        list(pool.map(Pulled.pack, pulled))
    tally = Tally()
    for p in pulled:
        status = ("reused" if p.reused else "ok") if not p.error else "rejected" if p.fetched else "failed"
        tally.count("coldwarn_feed_fetches", {"feed": p.feed, "status": status})
        tally.observe("coldwarn_feed_fetch_duration_seconds", {"feed": p.feed}, p.elapsed_ms / 1000)
        session.add(FeedRun(
            cycle_id=cycle_id, feed=p.feed, format=p.format, key=p.key[:80], source=p.source[:500],
            fetched_at=utcnow(), status=status, attempts=p.attempts, elapsed_ms=p.elapsed_ms,
            fallback_from=p.fallback_from, rows=p.rows if p.ok and not p.error else 0, error=p.error,
            notes="\n".join(p.notes) or None,
            request=p.request, payload_gzip=p.packed, payload_sha256=p.sha256))
    tally.write(session)


def with_manual_cpi(cpi: pd.DataFrame, session: Session) -> pd.DataFrame:
    """Feed figures plus those an admin entered; an entry wins for its area and month."""
    manual = pd.DataFrame([{"area_code": m.area_code, "month": m.month, "cpi_yoy": m.cpi_yoy,
                            "food_cpi_yoy": m.food_cpi_yoy, "released_on": pd.Timestamp(m.released_on)}
                           for m in session.scalars(select(ManualCpi))])
    if manual.empty:
        return cpi
    combined = pd.concat([cpi, manual], ignore_index=True) if not cpi.empty else manual
    return combined.drop_duplicates(["area_code", "month"], keep="last").reset_index(drop=True)


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
        self.regions = rt.config.regions_by_code
        self.caseloads = caseload_records(session)
        self.shelters = shelters_by_region(session)
        self.tasks_created = 0
        # Read once per cycle rather than once per alert: at national scale the round trips were the cost.
        self.episodes = {(region, hazard): episode for region, hazard, episode in session.execute(
            select(Alert.region_code, Alert.hazard, func.max(Alert.episode)).group_by(Alert.region_code, Alert.hazard))}
        self.open_types: dict[str, Counter] | None = None  # region -> active alert tasks per type
        self.alert_tasks: dict[int, dict] | None = None  # open alert -> type -> (due_at, instance) of its newest
        self.unsent_lists: list[tuple[list[dict], Alert | None, Subsidy | None]] = []  # tasks as rows

    def apply_decisions(self, decisions: list[Decision], open_alerts: dict) -> dict:
        counts = {"issued": 0, "updated": 0, "resolved": 0}
        issued = self._new_alerts([d for d in decisions if d.action == "issue"])
        for decision in decisions:
            alert = issued.get(id(decision)) or open_alerts.get((decision.region_code, decision.hazard))
            getattr(self, f"_{decision.action}")(decision, alert)
            if decision.sends:
                counts[{"issue": "issued", "update": "updated", "resolve": "resolved"}[decision.action]] += 1
        self._send_task_lists()
        open_now = self.session.execute(select(Alert.hazard, Alert.level, func.count()).where(Alert.status == "open")
                                        .group_by(Alert.hazard, Alert.level)).all()
        counts["by_level"], counts["by_hazard"] = {}, {}
        for hazard, level, n in open_now:
            counts["by_level"][level] = counts["by_level"].get(level, 0) + n
            counts["by_hazard"].setdefault(hazard, {})[level] = n
        return counts

    def _new_alerts(self, decisions: list[Decision]) -> dict[int, SimpleNamespace]:
        """The alerts the issue decisions create, inserted together as rows, not ORM objects (a national
        cold wave issues thousands); what the cycle goes on to read of them is each row and its id."""
        rows = []
        for decision in decisions:
            a = decision.assessment
            episode = self.episodes.get((a.region_code, a.hazard), 0) + 1
            self.episodes[(a.region_code, a.hazard)] = episode
            rows.append({"region_code": a.region_code, "hazard": a.hazard, "episode": episode, "status": "open",
                         "issued_at": self.as_of, "resolved_at": None, "resolve_reason": None,
                         **self._filled(decision)})
        ids = insert_rows(self.session, Alert.__table__, rows) if rows else []
        return {id(decision): SimpleNamespace(id=new_id, **row) for decision, row, new_id in zip(decisions, rows, ids)}

    def _issue(self, decision: Decision, alert: Alert) -> None:
        self.outbox.add("alert.issued", alert.region_code, alert_data(alert, self.regions[alert.region_code]))
        self._plan(alert)

    def _update(self, decision: Decision, alert: Alert) -> None:
        previous = alert.level
        self._fill(alert, decision)
        self.outbox.add("alert.updated", alert.region_code,
                        alert_data(alert, self.regions[alert.region_code], previous, decision.reason))
        self._plan(alert)
        self._repeat(alert)

    def _keep(self, decision: Decision, alert: Alert) -> None:
        self._fill(alert, decision)  # fresher numbers, same state: stored, not sent
        self._repeat(alert)

    def _repeat(self, alert: Alert) -> None:
        """Repeating tasks (daily visits, nightly patrols) get their next instance when it is due."""
        planned = plan_repeats(self.rt.config.playbook, hazard=alert.hazard, level=alert.level, stage=alert.stage,
                               ends=alert.ends, now=self.as_of, latest=dict(self._tasks_of(alert)),
                               caseload=self.caseloads.get(alert.region_code),
                               shelters=self.shelters.get(alert.region_code, []))
        self._add_tasks(planned, alert.region_code, alert=alert)

    def _quiet(self, decision: Decision, alert: Alert) -> None:
        alert.quiet_cycles = decision.quiet_cycles

    def _resolve(self, decision: Decision, alert: Alert) -> None:
        alert.status, alert.resolved_at, alert.resolve_reason = "resolved", self.as_of, decision.reason
        alert.quiet_cycles, alert.updated_at = decision.quiet_cycles, self.as_of
        unstarted = ("open", "acknowledged")  # in progress or done: kept, the work is real
        for task in self.session.scalars(select(Task).where(Task.alert_id == alert.id, Task.status.in_(unstarted))):
            heir = self._alert_still_needing(task)
            if heir is not None:  # another of the county's alerts still calls for it: it moves there
                task.alert_id, task.updated_at = heir.id, self.as_of
                self._note_task(heir, task.type, task.due_at, task.instance)
                continue
            festival = self._festival_still_needing(task)
            if festival is not None:  # the payment before 春节 is still due though the cold has gone
                task.alert_id, task.festival_id, task.updated_at = None, festival.id, self.as_of
                continue
            task.status, task.updated_at = "not_needed", self.as_of
            task.note = f"alert resolved: {decision.reason}"
            self._open_types(task.region_code)[task.type] -= 1
        self.outbox.add("alert.resolved", alert.region_code,
                        alert_data(alert, self.regions[alert.region_code], alert.level, decision.reason))

    def _fill(self, alert: Alert, decision: Decision) -> None:
        for name, value in self._filled(decision).items():
            setattr(alert, name, value)

    def _filled(self, decision: Decision) -> dict:
        """What an issue, update or keep writes on its alert: the assessment's numbers, now."""
        a = decision.assessment
        return {"level": a.level, "stage": a.stage, "onset": a.onset, "ends": a.ends, "lead_time_h": a.lead_time_h,
                "evidence": a.evidence.as_dict(), "rule_version": a.rule_version, "quiet_cycles": 0,
                "updated_at": self.as_of}

    def _alert_still_needing(self, task: Task) -> Alert | None:
        others = self.session.scalars(select(Alert).where(Alert.region_code == task.region_code,
                                                          Alert.status == "open", Alert.id != task.alert_id))
        return next((a for a in others if task.type in
                     {t.type for t in applicable(self.rt.config.playbook, a.hazard, a.level, a.stage)}), None)

    def _festival_still_needing(self, task: Task) -> Festival | None:
        """An undue festival decision of the county whose tasks include this one's type (it planned none
        of its own, this one being open)."""
        if task.type not in festival_task_types(self.rt.config.playbook):
            return None
        return self.session.scalars(select(Festival).where(Festival.region_code == task.region_code,
                                                           Festival.pay_by > self.as_of)
                                    .order_by(Festival.pay_by).limit(1)).first()

    def apply_festivals(self) -> dict:
        """元旦 and 春节 within notice, decided once per region and day: tasks to pay benefits early and,
        where the region's rules set one, the holiday subsidy. A payment task already open (a cold
        wave's) is the one task for both, due by the earlier time. The decisions of every county go in
        together, and the open tasks they bring forward in a statement per due time."""
        counts = {"decided": 0, "subsidy_yuan": 0.0}
        rules, decided = self.rt.config.rules, set(self.session.execute(
            select(Festival.region_code, Festival.festival, Festival.day)).all())
        due = []
        for code, region in self.regions.items():
            if len(code) != COUNTY_DIGITS:  # benefits are paid by the county: a township gets none of its own
                continue
            rule = rules.in_month(self.as_of.strftime("%Y-%m")).for_chain(rules.override_chain(region)).festival
            local_day = self.as_of.astimezone(ZoneInfo(region["timezone"])).date()
            due += [(code, rule, name, day) for name, day in (upcoming(local_day, rule.festivals, rule.notice_days)
                                                              if rule.enabled else []) if (code, name, day) not in decided]
        rows = [self._festival_row(*decision) for decision in due]
        ids = insert_rows(self.session, Festival.__table__, rows) if rows else []
        festivals = [SimpleNamespace(id=new_id, **row) for row, new_id in zip(rows, ids)]
        open_types = {festival.region_code: {t for t, n in self._open_types(festival.region_code).items() if n > 0}
                      for festival in festivals}
        self._bring_forward(festivals, open_types)
        for festival in festivals:
            self._plan_festival(festival)
        counts["decided"] = len(festivals)
        self._send_task_lists()
        counts["subsidy_yuan"] = round(self.session.scalar(select(func.coalesce(func.sum(Festival.total_yuan), 0))
                                                           .where(Festival.decided_at == self.as_of)), 2)
        return counts

    def _festival_row(self, code: str, rule, name: str, day) -> dict:
        caseload, per_person = self.caseloads.get(code), rule.subsidy.per_person_yuan
        recipients = sum(int(caseload[group]) for group in rule.subsidy.groups) if caseload else None
        return {"region_code": code, "festival": name, "day": day,
                "pay_by": end_of_working_days_before(day, rule.pay_working_days_before, self.regions[code]["timezone"]),
                "per_person_yuan": per_person, "recipients": recipients,
                "total_yuan": recipients * per_person if recipients is not None and per_person else None,
                "rule_version": self.rt.config.rules.version, "decided_at": self.as_of}

    def _plan_festival(self, festival: SimpleNamespace) -> None:
        """(The county's open types as they are now: a second festival within notice sees the first's.)"""
        code = festival.region_code
        open_types = {t for t, n in self._open_types(code).items() if n > 0}
        words = {"festival": FESTIVAL_NAMES[festival.festival], "day": festival.day.isoformat()}
        paid = {"per_person": festival.per_person_yuan, "recipients": festival.recipients,
                "amount_yuan": festival.total_yuan}
        planned = []
        for hazard, values in [("festival", words)] + ([("festival_subsidy", words | paid)]
                                                       if festival.per_person_yuan else []):
            planned += plan_tasks(self.rt.config.playbook, hazard=hazard, level="start", stage="act",
                                  onset=festival.pay_by, now=self.as_of, caseload=self.caseloads.get(code), shelters=[],
                                  subsidy=values, existing_types=frozenset(open_types),
                                  zone=self.regions[code]["timezone"])
        self._add_tasks(planned, code, festival=festival)

    def _bring_forward(self, festivals: list[SimpleNamespace], open_types: dict[str, set[str]]) -> None:
        """An open task of a type a festival calls for is due by the festival's time, if that is earlier
        (never before now: a task is not made late by the cycle that plans it). One statement for all
        the counties with the same due time and types."""
        called_for = festival_task_types(self.rt.config.playbook)
        counties = defaultdict(list)
        for festival in festivals:
            types = called_for & open_types[festival.region_code]
            if types:
                counties[(max(festival.pay_by, self.as_of), tuple(sorted(types)))].append(festival.region_code)
        for (due, types), codes in counties.items():
            self.session.execute(update(Task).where(Task.region_code.in_(codes), Task.type.in_(types),
                                                    Task.status.in_(ACTIVE), Task.due_at > due)
                                 .values(due_at=due, updated_at=self.as_of)
                                 .execution_options(synchronize_session=False))

    def _plan(self, alert: Alert) -> None:
        open_in_county = {task_type for task_type, n in self._open_types(alert.region_code).items() if n > 0}
        existing = frozenset(self._tasks_of(alert)) | open_in_county
        with self.watch.stage("plan"):
            planned = plan_tasks(self.rt.config.playbook, hazard=alert.hazard, level=alert.level,
                                 stage=alert.stage, onset=alert.onset, now=self.as_of,
                                 caseload=self.caseloads.get(alert.region_code),
                                 shelters=self.shelters.get(alert.region_code, []), existing_types=existing,
                                 zone=self.regions[alert.region_code]["timezone"])
        self._add_tasks(planned, alert.region_code, alert=alert)

    def _open_types(self, region_code: str) -> Counter:
        """How many active alert and festival tasks of each type the county has, planned this cycle included."""
        if self.open_types is None:
            self.open_types = defaultdict(Counter)
            for region, task_type in self.session.execute(select(Task.region_code, Task.type).where(
                    or_(Task.alert_id.is_not(None), Task.festival_id.is_not(None)), Task.status.in_(ACTIVE))):
                self.open_types[region][task_type] += 1
        return self.open_types[region_code]

    def _tasks_of(self, alert: Alert) -> dict:
        """The alert's task types, each with the (due_at, instance) of its newest instance."""
        if self.alert_tasks is None:
            self.alert_tasks = defaultdict(dict)
            for alert_id, task_type, due_at, instance in self.session.execute(
                    select(Task.alert_id, Task.type, Task.due_at, Task.instance).join(Alert, Alert.id == Task.alert_id)
                    .where(Alert.status == "open").order_by(Task.instance)):
                self.alert_tasks[alert_id][task_type] = (due_at, instance)
        return self.alert_tasks[alert.id]

    def _note_task(self, alert: Alert, task_type: str, due_at: datetime, instance: int) -> None:
        newest = self._tasks_of(alert)
        if task_type not in newest or instance >= newest[task_type][1]:
            newest[task_type] = (due_at, instance)

    def _add_tasks(self, planned: list[PlannedTask], region_code: str, alert: Alert | None = None,
                   subsidy: Subsidy | None = None, festival: Festival | None = None) -> None:
        """Tasks are inserted, and their lists sent, once all are planned (_send_task_lists)."""
        if not planned:
            return
        tasks = [{"region_code": region_code, "alert_id": alert.id if alert else None,
                  "subsidy_id": subsidy.id if subsidy else None, "festival_id": festival.id if festival else None,
                  "type": p.type, "rule": p.rule,
                  "status": "open", "due_at": p.due_at, "quantities": p.quantities, "role": p.role,
                  "title": p.title, "instructions": p.instructions, "instance": p.instance,
                  "created_at": self.as_of, "updated_at": self.as_of} for p in planned]
        if alert is not None or festival is not None:
            self._open_types(region_code).update(p.type for p in planned)
        if alert is not None:
            for p in planned:
                self._note_task(alert, p.type, p.due_at, p.instance)
        self.tasks_created += len(tasks)
        self.unsent_lists.append((tasks, alert, subsidy))

    def _send_task_lists(self) -> None:
        """One insert for every task planned, as rows, not ORM objects (a national cycle plans tens of
        thousands); then each list to its subscribers (the lists carry the task ids)."""
        rows = [task for tasks, _, _ in self.unsent_lists for task in tasks]
        if not rows:
            return
        for task, task_id in zip(rows, insert_rows(self.session, Task.__table__, rows)):
            task["id"] = task_id
        for tasks, alert, subsidy in self.unsent_lists:
            region_code = tasks[0]["region_code"]
            self.outbox.add("tasklist.issued", region_code, tasklist_data(
                self.regions[region_code], [SimpleNamespace(**task) for task in tasks], alert, subsidy))
        self.unsent_lists.clear()

    def apply_price_decisions(self, prices: pd.DataFrame) -> dict:
        """One decision per (region, month), made once; started ones get a subsidy and a task."""
        counts = {"decided": 0, "started": 0, "total_yuan": 0.0}
        if prices.empty:
            return counts
        decided = set(self.session.execute(select(Subsidy.region_code, Subsidy.month)).all())
        new = prices[[(r, m) not in decided for r, m in zip(prices["region_code"], prices["month"])]]
        caseload = pd.DataFrame(list(self.caseloads.values()))
        started = new[new["started"]]
        amounts = (subsidy_amounts(started, caseload).set_index("region_code")
                   if not caseload.empty and not started.empty else pd.DataFrame())
        for row in new.to_dict("records"):
            amount = amounts.loc[row["region_code"]].to_dict() if row["region_code"] in amounts.index else {}
            subsidy = self._subsidy(row, amount)
            counts["decided"] += 1
            if subsidy.started:
                counts["started"] += 1
                counts["total_yuan"] += subsidy.total_yuan or 0.0
        self._send_task_lists()
        counts["total_yuan"] = round(counts["total_yuan"], 2)
        return counts

    def _subsidy(self, row: dict, amount: dict) -> Subsidy:
        recipients = (int(amount["recipients_urban"] + amount["recipients_rural"]) if amount else None)
        subsidy = Subsidy(
            region_code=row["region_code"], month=row["month"], started=bool(row["started"]),
            triggered_by=row["triggered_by"], amount_by=row["amount_by"] or None, index_area=row["index_area"], index_scope=row["index_scope"],
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
                zone=region["timezone"],
                shelters=[], subsidy={"amount_yuan": subsidy.total_yuan, "month": subsidy.month,
                                      "per_person_urban": subsidy.per_person_urban,
                                      "per_person_rural": subsidy.per_person_rural,
                                      "recipients": subsidy.recipients})
        self._add_tasks(planned, subsidy.region_code, subsidy=subsidy)
        return subsidy
