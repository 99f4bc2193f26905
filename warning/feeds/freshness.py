"""Feed freshness: the age of the oldest data in use; stale feeds are announced once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from warning.events import SCHEMA_VERSION, Outbox, iso
from warning.models import FeedStatus
from warning.settings import FreshnessSettings


def max_age(feed: str, settings: FreshnessSettings) -> timedelta:
    return {"forecast": timedelta(hours=settings.forecast_max_age_h),
            "ensemble": timedelta(hours=settings.ensemble_max_age_h),
            "observed": timedelta(hours=settings.observed_max_age_h),
            "warnings": timedelta(hours=settings.warnings_max_age_h),
            "cpi": timedelta(days=settings.cpi_max_age_days)}[feed]


def update_freshness(session: Session, data_times: dict[str, list[datetime | None]], now: datetime,
                     settings: FreshnessSettings, outbox: Outbox) -> dict[str, dict]:
    """`data_times[feed]`: when each payload in use was fetched (None: no data at all)."""
    report = {}
    for feed, times in data_times.items():
        oldest = None if any(t is None for t in times) else min(times)
        stale = oldest is None or now - oldest > max_age(feed, settings)
        status = session.get(FeedStatus, feed) or FeedStatus(feed=feed)
        session.add(status)
        status.last_ok_at = oldest
        if stale:
            status.stale_since = status.stale_since or now
            if status.notified_at is None:
                status.notified_at = now
                outbox.add("feed.stale", "", feed_event(feed, oldest, status.stale_since, settings))
        elif status.stale_since is not None:
            if status.notified_at is not None:
                outbox.add("feed.recovered", "", feed_event(feed, oldest, status.stale_since, settings))
            status.stale_since = status.notified_at = None
        report[feed] = {"stale": stale, "data_as_of": iso(oldest)}
    return report


def feed_event(feed: str, oldest: datetime | None, stale_since: datetime, settings: FreshnessSettings) -> dict:
    return {"schema_version": SCHEMA_VERSION, "feed": feed, "data_as_of": iso(oldest), "stale_since": iso(stale_since),
            "max_age_h": max_age(feed, settings).total_seconds() / 3600}
