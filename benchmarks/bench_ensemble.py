"""Pull and assess the ensemble for every county-level region: Open-Meteo's /v1/ensemble (51 members,
as ecmwf_ifs025 has) from the built emulator on loopback, then the members' shares of every daily rule
and the cycle's day record (what verification keeps).

    .venv/bin/python benchmarks/bench_ensemble.py [--members 51] [--batch-size 50] [--cold-members 30]

The emulator runs in its own process (peak memory is the client's) on a fixed clock (2026-01-19T00:00Z),
answering 14 days (4 past + 10 forecast, as the live feed asks) of hourly temperature and wind per
member and location; `--cold-members` of them bring a cold front, so shares are neither 0 nor 100 %.
Every region's rules use the ensemble here (the shipped default is the deterministic forecast).
`pull_s` is fetch + parse + reduce to local days (threads, as a cycle pulls), `assess_s` the shares and
assessments, `record_s` the day record; `wall_s` is their sum.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
import requests  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

from benchmarks.bench_feeds import free_port  # noqa: E402
from tests.emulators import open_meteo_ensemble_handler  # noqa: E402
from triggers.ensemble import LEVELS_OF, EnsembleDaily, assess_ensemble  # noqa: E402
from triggers.verification import record_of  # noqa: E402
from triggers.grid import DailyGrid  # noqa: E402
from warning.config import load_config  # noqa: E402
from warning.feeds.http import Fetcher  # noqa: E402
from warning.feeds.live import LiveSource  # noqa: E402
from warning.runtime import settle_heap  # noqa: E402
from warning.settings import FeedSettings, load_settings  # noqa: E402

NOW = datetime(2026, 1, 19, tzinfo=timezone.utc)


def serve(port: int, members: int, cold_members: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    handler = open_meteo_ensemble_handler(members=members, cold_members=cold_members, now=NOW)
    make_server("127.0.0.1", port, lambda env, start: handler(Request(env))(env, start), threaded=True).serve_forever()


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            requests.get(url, params={"latitude": "40", "longitude": "116", "forecast_days": "1"}, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=51)
    parser.add_argument("--cold-members", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    port = free_port()
    server = multiprocessing.Process(target=serve, args=(port, args.members, args.cold_members), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1/ensemble"
    wait_for(url)

    config = load_config(load_settings({"COLDWARN_SCENARIO": ""}))
    settings = FeedSettings.model_validate({"ensemble": {"enabled": True, "url": url, "batch_size": args.batch_size}})
    source = LiveSource(settings, Fetcher(requests.Session()), clock=lambda: NOW)
    located = config.regions.dropna(subset=["latitude", "longitude"])
    settle_heap()

    started = time.perf_counter()
    with ThreadPoolExecutor(source.parallel) as pool:
        pulled = list(pool.map(lambda job: job(), source.ensemble_jobs(located)))
    pull_s = time.perf_counter() - started
    server.terminate()
    failed = [p.error for p in pulled if not p.ok]
    if failed:
        sys.exit(f"failures: {failed[:3]}")

    rules = config.rules.in_month("2026-01")
    thresholds = rules.thresholds(config.regions)
    for hazard in LEVELS_OF:  # every region on the ensemble: the whole cost of the shares
        thresholds[f"{hazard}.ensemble.use"] = "ensemble"
    started = time.perf_counter()
    ensemble = EnsembleDaily.from_frame(pd.concat([p.data for p in pulled], ignore_index=True))
    assessments = assess_ensemble(ensemble, thresholds, config.tz_by_code, rules, NOW)
    assess_s = time.perf_counter() - started
    started = time.perf_counter()
    record = record_of(DailyGrid.from_frame(pd.DataFrame()), ensemble, thresholds, config.tz_by_code, rules, NOW)
    record_bytes = len(record.to_bytes())
    record_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    members, regions, days = ensemble.values["tmin"].shape
    print(f"regions: {regions} with members, of {len(located)} located; members: {members}; days: {days}")
    print(f"requests: {len(pulled)} (batches of {args.batch_size}); member-days: {members * regions * days:,}")
    print(f"pull (fetch, parse, local days): {pull_s:.2f} s")
    print(f"assess (shares of every daily rule): {assess_s:.2f} s, {len(assessments)} assessments")
    print(f"day record: {record_s:.2f} s, {record_bytes / 1e6:.2f} MB compressed")
    print(f"peak memory: {peak:.0f} MB")
    print(f"RESULT regions={regions} members={members} days={days} pull_s={pull_s:.2f} assess_s={assess_s:.2f} "
          f"record_s={record_s:.2f} wall_s={pull_s + assess_s + record_s:.2f} peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
