"""Cluster-wide Prometheus counters and histograms, kept in the database and added to in the same
transaction as what they count. Every instance and every web worker reports the same totals, a
restart loses nothing, and pruning old rows never makes a counter go down."""

from __future__ import annotations

import bisect
import functools
import json
from collections import defaultdict

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warning.models import MetricTally

INF = float("inf")
# seconds; a webhook answers in tens of milliseconds, a national cycle's stage in minutes
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
HISTOGRAMS = {"coldwarn_delivery_latency_seconds": LATENCY_BUCKETS,
              "coldwarn_feed_fetch_duration_seconds": DURATION_BUCKETS,
              "coldwarn_cycle_stage_duration_seconds": DURATION_BUCKETS}


def label_key(labels: dict) -> str:
    return key_of(tuple(sorted(labels.items())))


@functools.lru_cache(maxsize=4096)
def key_of(items: tuple) -> str:
    """(A send adds to some fifteen series: their keys are written once, not again for every send.)"""
    return json.dumps(items, ensure_ascii=False)


@functools.lru_cache(maxsize=1024)
def bucket_keys(name: str, items: tuple) -> list[tuple[float, str]]:
    """A histogram's buckets for these labels: each upper bound with its series' key."""
    return [(bound, label_key(dict(items) | {"le": "+Inf" if bound == INF else repr(float(bound))}))
            for bound in (*HISTOGRAMS[name], INF)]


class Tally:
    """Increments gathered during a transaction and written at its end, one upsert for them all."""

    def __init__(self):
        self.increments: dict[tuple[str, str], float] = defaultdict(float)

    def count(self, name: str, labels: dict, by: float = 1) -> None:
        if by:
            self.increments[(name, label_key(labels))] += by

    def observe(self, name: str, labels: dict, seconds: float) -> None:
        """One observation of a histogram: its cumulative buckets, sum and count."""
        self.observe_all(name, labels, [seconds])

    def observe_all(self, name: str, labels: dict, observed: list[float]) -> None:
        """Several observations of a histogram at once (a run of sends: a bucket's count is a search in
        the sorted values, not a comparison per value and bucket)."""
        if not observed:
            return
        ordered = sorted(observed)
        for bound, key in bucket_keys(name, tuple(sorted(labels.items()))):
            if within := bisect.bisect_right(ordered, bound):
                self.increments[(f"{name}_bucket", key)] += within
        self.count(f"{name}_sum", labels, sum(ordered))
        self.count(f"{name}_count", labels, len(ordered))

    def write(self, session: Session) -> None:
        if not self.increments:
            return
        statement = upsert(session.get_bind().dialect.name)
        # in one order everywhere: two transactions adding to the same rows wait, never deadlock
        rows = [{"name": name, "labels": labels, "value": value}
                for (name, labels), value in sorted(self.increments.items())]
        session.execute(statement, rows)
        self.increments.clear()


@functools.cache
def upsert(dialect_name: str):
    """The statement that adds increments to the tallies (built once: a run of sends writes one)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = MetricTally.__table__
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(index_elements=["name", "labels"],
                                           set_={"value": table.c.value + statement.excluded.value})


def add_to(session: Session, name: str, labels: dict, by: float = 1) -> None:
    """One counter's increment, written now (in the caller's transaction)."""
    tally = Tally()
    tally.count(name, labels, by)
    tally.write(session)


def read_tallies(session: Session) -> dict[str, list[tuple[dict, float]]]:
    """name -> [(labels, value)], every series recorded."""
    found: dict[str, list[tuple[dict, float]]] = defaultdict(list)
    for row in session.query(MetricTally.name, MetricTally.labels, MetricTally.value):
        found[row.name].append((dict(json.loads(row.labels)), row.value))
    return found
