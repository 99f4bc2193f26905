"""Re-running past cycles from their stored payloads: how a decision is audited or a bug reproduced."""

from __future__ import annotations

import gzip
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.validation import InvalidConfig
from warning.feeds import Pulled
from warning.feeds.formats import failed, parsed
from warning.models import CycleRun, FeedRun


class ReplaySource:
    """A past cycle's feeds, parsed again from what was fetched then, at that cycle's "now"."""

    def __init__(self, cycle: CycleRun, runs: list[FeedRun]):
        self.cycle, self.runs = cycle, runs
        self.name = f"replay of {cycle.id}"

    @property
    def now(self) -> datetime:
        return self.cycle.as_of

    def pull(self, _regions=None) -> list[Pulled]:
        return [self.again(run) for run in self.runs]

    @staticmethod
    def again(run: FeedRun) -> Pulled:
        if run.payload_gzip is None:
            return failed(run.format, run.source, run.error or "no payload was fetched", run.request, run.key)
        return parsed(run.format, run.source, gzip.decompress(run.payload_gzip), run.request, run.key)


def cycles_until(session: Session, cycle_id: str) -> list[ReplaySource]:
    """Every stored cycle up to and including `cycle_id`, oldest first, ready to replay."""
    last = session.get(CycleRun, cycle_id)
    if last is None:
        raise InvalidConfig([f"cycle {cycle_id}: no such cycle"])
    cycles = session.scalars(select(CycleRun).where(CycleRun.started_at <= last.started_at)
                             .order_by(CycleRun.started_at)).all()
    sources = []
    for cycle in cycles:
        source = replay_source(session, cycle)
        if source is None:
            raise InvalidConfig([f"cycle {cycle.id}: its payloads were pruned (feeds.snapshot_retention_days)"])
        sources.append(source)
    return sources


def replay_source(session: Session, cycle: CycleRun) -> ReplaySource | None:
    """The cycle's feeds as fetched then (a payload it reused, as first fetched); None once its payloads
    have been pruned."""
    runs = session.scalars(select(FeedRun).where(FeedRun.cycle_id == cycle.id).order_by(FeedRun.id)).all()
    runs = [session.get(FeedRun, r.fallback_from) if r.status == "reused" else r for r in runs]
    if any(r is None or (r.payload_gzip is None and r.status != "failed") for r in runs):
        return None
    return ReplaySource(cycle, runs)
