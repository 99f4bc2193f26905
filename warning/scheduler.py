"""The scheduled jobs (APScheduler 3.x), the same on every instance.

- cycle: every `schedule.tick_seconds` each instance tries the cluster-wide cycle lock; the one
  that gets it runs the cycle (pull forecasts, warnings and CPI; assess; plan; remind overdue
  tasks) if none has started in the current `cycle_minutes` slot. A dead holder's slot is taken
  over at the next tick of another instance.
- deliver: every instance drains the outbox (claims are leases, so they share the work).
- prune: daily, on one instance at a time.
Each run that did something, or failed, is kept in job_runs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import delete

from warning import delivery
from warning.accounts import prune_login_failures
from warning.cycle import Source, run_cycle
from warning.leader import CYCLE_LOCK, PRUNE_LOCK, abandon_cut_off_cycles, cluster_lock, cycle_due
from warning.logs import instance_id
from warning.maintenance import prune_snapshots
from warning.models import JobRun, utcnow
from warning.runtime import Runtime, give_back_free_memory
from warning.tallies import add_to

log = logging.getLogger(__name__)
JOB_HISTORY_DAYS = 30


def build_scheduler(rt: Runtime, source: Source, kind: type[BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    schedule = rt.settings.schedule
    scheduler = kind(timezone=rt.settings.feeds.timezone, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": schedule.misfire_grace_s})
    scheduler.add_job(recorded(rt, "cycle", run_due_cycle, rt, source), "interval", id="cycle",
                      name="pull, assess, plan (one instance)", seconds=schedule.tick_seconds,
                      next_run_time=datetime.now(timezone.utc))
    scheduler.add_job(recorded(rt, "deliver", delivery.drain, rt.sessions, rt.http, rt.settings.delivery),
                      "interval", id="deliver", name="deliver the outbox", seconds=schedule.deliver_seconds)
    scheduler.add_job(recorded(rt, "prune", prune, rt), "cron", id="prune", name="prune old payloads and history",
                      hour=3, minute=17)
    return scheduler


def run_due_cycle(rt: Runtime, source: Source) -> dict | None:
    """Run the cycle if this instance holds the lock and the current slot has none yet; None otherwise."""
    with cluster_lock(rt.engine, CYCLE_LOCK) as held:
        if not held:
            return None
        now = utcnow()
        with rt.sessions.begin() as session:
            if abandon_cut_off_cycles(session, now):
                log.warning("took over from an instance that stopped mid-cycle")
            due = cycle_due(session, now, rt.settings.schedule.cycle_minutes)
        if not due:
            return None
        try:
            summary = run_cycle(rt, source, deliver=False, lead=held)
        finally:
            give_back_free_memory()  # a long-running process: what the cycle's tables took goes back
        return {"alerts_issued": summary["alerts"]["issued"], "messages": summary["messages_enqueued"],
                "tasks_created": summary["tasks_created"]}


def prune(rt: Runtime) -> dict | None:
    with cluster_lock(rt.engine, PRUNE_LOCK) as held:
        if not held:
            return None
        payloads = prune_snapshots(rt)
        with rt.sessions.begin() as session:
            history = session.execute(delete(JobRun).where(
                JobRun.started_at < utcnow() - timedelta(days=JOB_HISTORY_DAYS))).rowcount
            failures = prune_login_failures(session)
        return {"payloads_dropped": payloads, "job_runs_dropped": history, "login_failures_dropped": failures}


def recorded(rt: Runtime, name: str, job, *args):
    """Run a job, keep the schedule whatever happens (one bad cycle must not stop the winter), and
    record the run in job_runs when it did something or failed (idle ticks are not kept)."""
    def run():
        started, status, counts, error = utcnow(), "ok", None, None
        try:
            result = job(*args)
            counts = dict(result) if result else None
        except Exception as failure:
            status, error = "failed", f"{type(failure).__name__}: {failure}"[:2000]
            log.exception("scheduled job %s failed", name)
        if status == "ok" and not (counts and any(counts.values())):
            return
        if status == "ok":
            log.info("%s: %s", name, ", ".join(f"{key} {value}" for key, value in counts.items() if value))
        try:
            with rt.sessions.begin() as session:
                session.add(JobRun(job=name, instance=instance_id(), started_at=started, finished_at=utcnow(),
                                   status=status, counts=counts, error=error))
                add_to(session, "coldwarn_job_runs", {"job": name, "status": status})
        except Exception:  # the database is down: the log has it, the next run tries again
            log.exception("could not record the %s run", name)
    run.__name__ = name
    return run
