"""Housekeeping: old raw payloads are dropped after the retention period (their rows stay)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from warning.models import FeedRun, utcnow
from warning.runtime import Runtime


def prune_snapshots(rt: Runtime) -> int:
    cutoff = utcnow() - timedelta(days=rt.settings.feeds.snapshot_retention_days)
    with rt.sessions.begin() as session:
        result = session.execute(update(FeedRun).where(FeedRun.fetched_at < cutoff, FeedRun.payload_gzip.is_not(None))
                                 .values(payload_gzip=None))
        return result.rowcount
