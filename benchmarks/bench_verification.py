"""Verify a winter of stored national cycles: day records of every county-level region, one per cycle,
read back from the database and scored (`coldwarn verify`, GET /api/v1/verification).

    .venv/bin/python benchmarks/bench_verification.py [--days 120] [--every-h 1] [--database-url URL]

The records are synthetic and on a fixed clock (cycles from 2025-11-15T00:00Z, hourly as the shipped
`cycle_minutes` runs them): a "true" winter where each region has a cold-wave, grade or persistent-cold
level on about one day in eight, forecasts that err more the further ahead, and a 51-member ensemble
whose share meeting a level follows the forecast. Each record has 14 local days (4 past, 10 ahead).
`store_s` is writing them (not part of verification); `verify_s` is reading every record back and
computing every table, as the API does. Default database: a fresh SQLite file; --database-url takes a
PostgreSQL one (it must hold no day records).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from triggers.levels import COLOUR_LEVELS  # noqa: E402
from triggers.verification import HAZARDS, DayRecord  # noqa: E402
from warning.db import make_engine, session_factory, upgrade  # noqa: E402
from warning.config import load_config  # noqa: E402
from warning.models import DayRecordRow  # noqa: E402
from warning.runtime import settle_heap  # noqa: E402
from warning.settings import load_settings  # noqa: E402
from warning.verification import Query, verification  # noqa: E402

FIRST_CYCLE = datetime(2025, 11, 15, tzinfo=timezone.utc)
PAST, AHEAD, MEMBERS = 4, 10, 51
LOCAL_H = 8  # every county on Beijing time here


def true_winter(regions: int, days: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each hazard's level per region and day: none on seven days in eight, then blue to red, rarer upward."""
    return {hazard: np.where(rng.random((regions, days)) < 1 / 8, rng.choice([1, 2, 3, 4], (regions, days),
                                                                             p=[.5, .3, .15, .05]), 0).astype(np.int8)
            for hazard in HAZARDS}


def record_at(cycle: int, every_h: int, codes: np.ndarray, truth: dict, rng: np.random.Generator) -> DayRecord:
    as_of = FIRST_CYCLE + timedelta(hours=cycle * every_h)
    today = (as_of + timedelta(hours=LOCAL_H) - FIRST_CYCLE).days + PAST  # index into the truth's days
    span = slice(today - PAST, today + AHEAD)
    leads = np.arange(-PAST, AHEAD)
    levels, meeting = {}, {}
    for hazard, true in truth.items():
        seen = true[:, span]
        wrong = rng.random(seen.shape) < np.clip(leads * 0.06, 0, 0.6)[None, :]  # right in the past, worse ahead
        said = np.where(wrong, np.clip(seen + rng.integers(-1, 2, seen.shape), 0, 4), seen).astype(np.int8)
        levels[hazard] = said
        share = np.stack([np.clip((said >= lv) * 0.75 + (seen >= lv) * 0.15, 0, 1) for lv in range(1, 5)])
        meeting[hazard] = np.round(share * MEMBERS).astype(np.uint8)
    local = as_of + timedelta(hours=LOCAL_H)
    start_h = -(PAST * 24 + local.hour + local.minute / 60)
    return DayRecord(as_of, codes, np.datetime64(local.date(), "D") - PAST, np.full(len(codes), start_h, dtype=np.float32),
                     levels, np.full((len(codes), PAST + AHEAD), MEMBERS, dtype=np.uint8), meeting,
                     {hazard: np.tile(np.array([40.0, 70.0], dtype=np.float32), (len(codes), 1)) for hazard in HAZARDS})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--every-h", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-verify-")
    url = args.database_url or f"sqlite:///{folder}/verify.db"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(DayRecordRow)):
            sys.exit(f"{url} already holds day records: give the benchmark an empty database")

    config = load_config(load_settings({"COLDWARN_SCENARIO": ""}))
    codes = np.array(sorted(config.regions.dropna(subset=["latitude", "longitude"])["code"]))
    rng = np.random.default_rng(11)
    truth = true_winter(len(codes), args.days + PAST + AHEAD + 2, rng)
    cycles = args.days * 24 // args.every_h
    started, stored = time.perf_counter(), 0
    for first in range(0, cycles, 48):
        rows = []
        for cycle in range(first, min(first + 48, cycles)):
            record = record_at(cycle, args.every_h, codes, truth, rng)
            body = record.to_bytes()
            stored += len(body)
            rows.append({"cycle_id": f"bench-{cycle:06d}", "kind": "cycle", "as_of": record.as_of, "recorded_at": record.as_of,
                         "scenario": "bench", "body": body})
        with sessions.begin() as session:
            session.execute(insert(DayRecordRow), rows)
    store_s = time.perf_counter() - started
    del truth
    settle_heap()

    started = time.perf_counter()
    with sessions() as session:
        report = verification(session, Query())
    verify_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    blue = next(r for r in report["contingency"] if (r["source"], r["hazard"], r["level"], r["lead_d"])
                == ("deterministic", "cold_wave", COLOUR_LEVELS[0], 1))
    print(f"cycles: {report['cycles']} ({args.days} days, every {args.every_h} h) x {len(codes)} regions x "
          f"{PAST + AHEAD} days; stored {stored / 1e6:.0f} MB of day records in {store_s:.1f} s ({url.split(':')[0]})")
    print(f"verify (read back, score, every table): {verify_s:.2f} s; rows: {len(report['contingency'])} contingency, "
          f"{len(report['reliability'])} reliability")
    print(f"cold wave blue, 1 day ahead: POD {blue['pod']}, FAR {blue['far']}, CSI {blue['csi']}")
    print(f"peak memory: {peak:.0f} MB")
    print(f"RESULT cycles={report['cycles']} regions={len(codes)} store_mb={stored / 1e6:.0f} verify_s={verify_s:.2f} "
          f"peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
