"""/metrics in the Prometheus text format, read from the database at each scrape.

Every instance answers with the same figures (they are the cluster's, not the process's), so a
scrape of any instance, or of all of them, is right.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from triggers.tasks import ACTIVE
from warning.models import Alert, CycleRun, DeliveryAttempt, FeedRun, FeedStatus, JobRun, OutboxMessage, Task, utcnow
from warning.web import runtime

metrics = Blueprint("metrics", __name__)


def grouped(session, *columns):
    return session.execute(select(*columns, func.count()).group_by(*columns)).all()


class DatabaseCollector:
    def __init__(self, session):
        self.session = session

    def collect(self):
        yield from self.alerts_and_tasks()
        yield from self.outbox()
        yield from self.feeds()
        yield from self.cycles_and_jobs()

    def alerts_and_tasks(self):
        s = self.session
        alerts = GaugeMetricFamily("coldwarn_alerts_open", "Open alerts", labels=["hazard", "level"])
        for hazard, level, count in s.execute(select(Alert.hazard, Alert.level, func.count())
                                              .where(Alert.status == "open").group_by(Alert.hazard, Alert.level)):
            alerts.add_metric([hazard, level], count)
        yield alerts
        tasks = GaugeMetricFamily("coldwarn_tasks", "Tasks by status", labels=["status"])
        for status, count in grouped(s, Task.status):
            tasks.add_metric([status], count)
        yield tasks
        overdue = s.scalar(select(func.count()).select_from(Task).where(Task.status.in_(ACTIVE), Task.due_at < utcnow()))
        yield GaugeMetricFamily("coldwarn_tasks_overdue", "Unfinished tasks past their due time", value=overdue)

    def outbox(self):
        s = self.session
        depth = GaugeMetricFamily("coldwarn_outbox_messages", "Outbox messages by status", labels=["status"])
        for status, count in grouped(s, OutboxMessage.status):
            depth.add_metric([status], count)
        yield depth
        oldest = s.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))
        yield GaugeMetricFamily("coldwarn_outbox_oldest_pending_age_seconds", "Age of the oldest pending message",
                                value=(utcnow() - oldest).total_seconds() if oldest else 0)
        attempts = CounterMetricFamily("coldwarn_delivery_attempts", "Delivery attempts by outcome", labels=["outcome"])
        for outcome, count in grouped(s, DeliveryAttempt.outcome):
            attempts.add_metric([outcome], count)
        yield attempts
        latency = GaugeMetricFamily("coldwarn_delivery_latency_ms_avg", "Mean latency of the last hour's attempts",
                                    value=s.scalar(select(func.avg(DeliveryAttempt.latency_ms)).where(
                                        DeliveryAttempt.attempted_at > utcnow() - timedelta(hours=1))) or 0)
        yield latency

    def feeds(self):
        s = self.session
        runs = CounterMetricFamily("coldwarn_feed_runs", "Feed pulls by feed and status", labels=["feed", "status"])
        for feed, status, count in grouped(s, FeedRun.feed, FeedRun.status):
            runs.add_metric([feed, status], count)
        yield runs
        latest = s.execute(select(FeedRun.feed, FeedRun.elapsed_ms).where(FeedRun.id.in_(
            select(func.max(FeedRun.id)).group_by(FeedRun.feed)))).all()
        elapsed = GaugeMetricFamily("coldwarn_feed_last_pull_seconds", "Duration of each feed's last pull",
                                    labels=["feed"])
        for feed, ms in latest:
            elapsed.add_metric([feed], (ms or 0) / 1000)
        yield elapsed
        stale = GaugeMetricFamily("coldwarn_feed_stale", "1 while a feed is stale", labels=["feed"])
        for status in s.scalars(select(FeedStatus)):
            stale.add_metric([status.feed], 1 if status.stale_since else 0)
        yield stale

    def cycles_and_jobs(self):
        s = self.session
        cycles = CounterMetricFamily("coldwarn_cycles", "Cycles by outcome", labels=["status"])
        for status, count in grouped(s, CycleRun.status):
            cycles.add_metric([status], count)
        yield cycles
        last = s.scalars(select(CycleRun).where(CycleRun.status == "ok").order_by(CycleRun.started_at.desc())
                         .limit(1)).first()
        stages = GaugeMetricFamily("coldwarn_cycle_stage_seconds", "Duration of each stage of the last good cycle",
                                   labels=["stage"])
        for stage, ms in ((last.summary or {}).get("timings_ms", {}) if last else {}).items():
            stages.add_metric([stage], ms / 1000)
        yield stages
        yield GaugeMetricFamily("coldwarn_cycle_last_success_timestamp_seconds", "When the last good cycle finished",
                                value=last.finished_at.timestamp() if last and last.finished_at else 0)
        jobs = CounterMetricFamily("coldwarn_job_runs", "Recorded scheduled job runs", labels=["job", "status"])
        for job, status, count in grouped(s, JobRun.job, JobRun.status):
            jobs.add_metric([job, status], count)
        yield jobs


@metrics.get("/metrics")
def prometheus():
    registry = CollectorRegistry(auto_describe=False)
    with runtime().sessions() as session:
        registry.register(DatabaseCollector(session))
        body = generate_latest(registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
