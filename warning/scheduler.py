"""The in-process scheduler (APScheduler 3.x): the cycle and outbox delivery."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from warning import delivery
from warning.cycle import Source, run_cycle
from warning.maintenance import prune_snapshots
from warning.runtime import Runtime

log = logging.getLogger(__name__)


def build_scheduler(rt: Runtime, source: Source) -> BackgroundScheduler:
    schedule = rt.settings.schedule
    scheduler = BackgroundScheduler(timezone=rt.settings.feeds.timezone, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": schedule.misfire_grace_s})
    scheduler.add_job(guarded(run_cycle, rt, source, deliver=False), "interval", id="cycle",
                      name="pull, assess, plan", minutes=schedule.cycle_minutes,
                      next_run_time=datetime.now(timezone.utc))
    scheduler.add_job(guarded(delivery.drain, rt.sessions, rt.http, rt.settings.delivery), "interval",
                      id="deliver", name="deliver the outbox", seconds=schedule.deliver_seconds)
    scheduler.add_job(guarded(prune_snapshots, rt), "cron", id="prune", name="prune old payloads",
                      hour=3, minute=17)
    return scheduler


def guarded(job, *args, **kwargs):
    """Log a failed run and keep the schedule: one bad cycle must not stop the winter."""
    def run():
        try:
            return job(*args, **kwargs)
        except Exception:
            log.exception("scheduled job %s failed", job.__name__)
    run.__name__ = job.__name__
    return run
