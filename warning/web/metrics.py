"""/metrics in the Prometheus text format, read from the database at each scrape.

Every instance, and every worker of each, answers with the same figures (they are the cluster's,
not the process's), so a scrape of any instance, or of all of them, is right. Gauges are counted
from the rows now; counters and histograms are running totals (warning.tallies), so they never go
down, whatever `coldwarn prune` removes. Durations are histograms in seconds; *_age_seconds is how
old something is now.
"""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select

from triggers.tasks import ACTIVE
from warning.clock import judged_now
from warning.models import Alert, CycleRun, FeedStatus, OutboxMessage, Task, utcnow
from warning.tallies import read_tallies
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
        yield from self.cycles()
        yield from self.totals()

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
        overdue = s.scalar(select(func.count()).select_from(Task).where(Task.status.in_(ACTIVE), Task.due_at < judged_now(s)))
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

    def feeds(self):
        stale = GaugeMetricFamily("coldwarn_feed_stale", "1 while a feed is stale", labels=["feed"])
        for status in self.session.scalars(select(FeedStatus)):
            stale.add_metric([status.feed], 1 if status.stale_since else 0)
        yield stale

    def cycles(self):
        last = self.session.scalar(select(func.max(CycleRun.finished_at)).where(CycleRun.status == "ok"))
        yield GaugeMetricFamily("coldwarn_cycle_last_success_timestamp_seconds", "When the last good cycle finished",
                                value=last.timestamp() if last else 0)

    def totals(self):
        """Counters and histograms from their running totals (warning.tallies): they never go down."""
        tallies = read_tallies(self.session)
        for name, (help_text, labels) in COUNTERS.items():
            counter = CounterMetricFamily(name, help_text, labels=labels)
            for series, value in tallies.get(name, []):
                counter.add_metric([series[label] for label in labels], value)
            yield counter
        for name, (help_text, labels) in HISTOGRAMS.items():
            yield histogram(name, help_text, labels, tallies)


COUNTERS = {
    "coldwarn_delivery_attempts": ("Delivery attempts by outcome", ["outcome"]),
    "coldwarn_feed_fetches": ("Feed pulls by feed and status", ["feed", "status"]),
    "coldwarn_cycles": ("Cycles by outcome", ["status"]),
    "coldwarn_job_runs": ("Scheduled job runs that did something or failed", ["job", "status"]),
}
HISTOGRAMS = {
    "coldwarn_delivery_latency_seconds": ("Duration of each delivery attempt", []),
    "coldwarn_feed_fetch_duration_seconds": ("Duration of each feed pull, retries included", ["feed"]),
    "coldwarn_cycle_stage_duration_seconds": ("Duration of each cycle stage", ["stage"]),
}


def histogram(name: str, help_text: str, labels: list[str], tallies: dict) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, help_text, labels=labels)
    sums = {tuple(s[label] for label in labels): v for s, v in tallies.get(f"{name}_sum", [])}
    buckets: dict[tuple, list] = {}
    for series, value in tallies.get(f"{name}_bucket", []):
        buckets.setdefault(tuple(series[label] for label in labels), []).append((series["le"], value))
    for key, found in sorted(buckets.items()):
        found.sort(key=lambda pair: float(pair[0]))
        family.add_metric(list(key), found, sums.get(key, 0))
    return family


@metrics.get("/metrics")
def prometheus():
    registry = CollectorRegistry(auto_describe=False)
    with runtime().sessions() as session:
        registry.register(DatabaseCollector(session))
        body = generate_latest(registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
