"""The full national cycle: every county-level region, 10-day hourly forecasts from a local Open-Meteo
emulator, assess, reconcile, plan, persist, enqueue and deliver to a local receiver.

    .venv/bin/python benchmarks/bench_cycle.py [--database-url URL] [--as-of TIME] [--calm] [--per-province]
        [--batch N] [--senders N] [--townships N]

The emulator puts a sharp cold wave over the whole country (the worst case: every county gets
alerts and task lists at once); --calm sends ordinary weather instead. The emulator and the webhook
receiver run in their own processes, so the memory figures are the cycle's. By default one national
subscriber gets every event (sends to one subscriber go one at a time, to keep its events in
order); --per-province gives each province its own subscription on the same receiver, as a
deployment with provincial platforms would, so sends to different provinces run side by side.
--senders N adds N-1 processes draining the outbox beside the cycle's own drain, as extra `coldwarn
worker`s would (each subscriber is still served by one at a time). --batch N makes the subscribers
take up to N events per POST (a `batch` body), as a national platform would. --townships N replaces the
counties with N synthetic townships (nine-digit codes, spread evenly over the counties, each near
its county's centre). By default the database is a fresh schema in PostgreSQL at
127.0.0.1:5432/test (dropped afterwards); a database given with --database-url must hold no alerts
or messages (the benchmark refuses one that does, so it never writes into a deployment's data).

The clock is fixed (--as-of, default 2026-01-19T00:00Z, a winter night): the emulator's forecast and the
cycle's "now" are both that time, so the workload does not depend on the day it is run (frost only
fires in spring and autumn; 元旦 and 春节 bring their payment decisions within three weeks of them:
--as-of 2026-01-27T00:00Z measures that too). `commit_s` is the cycle from its pull to its commit;
`wall_s` runs until the last message is delivered.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
import yaml  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

from benchmarks.bench_delivery import SECRET, free_port, receive, wait_for  # noqa: E402
from tests.conftest import read_regions, write_regions  # noqa: E402
from tests.emulators import open_meteo_handler, synthetic_townships  # noqa: E402
from warning.cycle import Stopwatch, run_cycle  # noqa: E402
from warning.db import make_engine, upgrade  # noqa: E402
from warning.delivery import drain  # noqa: E402
from warning.feeds.http import Fetcher  # noqa: E402
from warning.feeds.live import LiveSource  # noqa: E402
from warning.models import Alert, OutboxMessage  # noqa: E402
from warning.runtime import Runtime, settle_heap  # noqa: E402
from warning.settings import SHIPPED_CONFIG_DIR, load_settings  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_AS_OF = "2026-01-19T00:00:00+00:00"


def emulate(port: int, cold: bool, as_of: datetime) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    handler = open_meteo_handler(cold=cold, now=as_of)
    make_server("127.0.0.1", port, lambda env, start: handler(Request(env))(env, start), threaded=True).serve_forever()


def fresh_schema() -> tuple[str, callable]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))

    def drop():
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return f"{POSTGRES}?options=-csearch_path%3D{schema}", drop


def subscribers(url: str, config_dir: Path, per_province: bool, batch: int | None) -> list[dict]:
    common = {"secrets": [SECRET]} | ({"batch": batch} if batch else {})
    if not per_province:
        return [{"name": "national-platform", "url": url} | common]
    provinces = sorted({row["province_code"] for row in read_regions(config_dir)})
    return [{"name": f"province-{code}", "url": f"{url}/{code}", "regions": [code]} | common for code in provinces]


def refuse_if_used(rt: Runtime) -> None:
    with rt.sessions() as session:
        used = session.scalar(select(func.count()).select_from(Alert)) or session.scalar(
            select(func.count()).select_from(OutboxMessage))
    if used:
        raise SystemExit(f"{rt.engine.url.render_as_string(hide_password=True)} holds alerts or messages: "
                         "give the benchmark an empty database, or none (a fresh schema, dropped afterwards)")


def live_source(rt: Runtime, as_of: datetime) -> LiveSource:
    fetch = rt.settings.feeds.fetch
    return LiveSource(rt.settings.feeds, Fetcher(rt.http, fetch.connect_timeout_s, fetch.read_timeout_s,
                                                 fetch.max_attempts, fetch.backoff_s), clock=lambda: as_of)


def send_until_stopped(settings, stop) -> None:
    rt = Runtime.start(settings)
    while not stop.is_set():
        if not sum(drain(rt.sessions, rt.http, rt.settings.delivery).values()):
            stop.wait(0.2)
    rt.close()


def wait_until_sent(rt: Runtime, summary: dict) -> None:
    """The cycle's own drain ends when every subscriber left is being served by another sender."""
    while True:
        with rt.sessions() as session:
            counts = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        if not counts.get("pending"):
            summary["deliveries"] = counts
            return
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database; default: a fresh schema in the local PostgreSQL")
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=DEFAULT_AS_OF,
                        help=f"the cycle's clock, ISO 8601 with its offset (default {DEFAULT_AS_OF})")
    parser.add_argument("--calm", action="store_true", help="ordinary weather instead of a national cold wave")
    parser.add_argument("--per-province", action="store_true", help="one subscription per province, not one national")
    parser.add_argument("--townships", type=int, help="this many synthetic townships instead of the counties")
    parser.add_argument("--batch", type=int, help="subscribers take up to this many events per POST")
    parser.add_argument("--senders", type=int, default=1, help="processes sending, the cycle's own included")
    args = parser.parse_args()
    as_of = args.as_of.astimezone(timezone.utc)
    folder = Path(tempfile.mkdtemp(prefix="coldwarn-cycle-"))
    config_dir = folder / "config"
    shutil.copytree(SHIPPED_CONFIG_DIR, config_dir)
    if args.townships:
        write_regions(config_dir, synthetic_townships(read_regions(config_dir), args.townships))
    forecast_port, receiver_port = free_port(), free_port()
    processes = [multiprocessing.Process(target=emulate, args=(forecast_port, not args.calm, as_of), daemon=True),
                 multiprocessing.Process(target=receive, args=(receiver_port, str(folder / "received.log")), daemon=True)]
    for process in processes:
        process.start()
    wait_for(f"http://127.0.0.1:{forecast_port}/v1/forecast?latitude=40&longitude=116")
    wait_for(f"http://127.0.0.1:{receiver_port}/hook")
    (config_dir / "subscriptions.yaml").write_text(yaml.safe_dump({"subscriptions": subscribers(
        f"http://127.0.0.1:{receiver_port}/hook", config_dir, args.per_province, args.batch)}))
    database_url, cleanup = (args.database_url, lambda: None) if args.database_url else fresh_schema()
    rt = Runtime.start(load_settings({
        "COLDWARN_CONFIG_DIR": str(config_dir), "COLDWARN_DATABASE_URL": database_url,
        "COLDWARN_INSTANCE_DIR": str(folder / "instance"), "COLDWARN_ALLOW_PRIVATE_TARGETS": "1",
        "COLDWARN_SCENARIO": "", "COLDWARN_OPEN_METEO_URL": f"http://127.0.0.1:{forecast_port}/v1/forecast"}))
    try:
        upgrade(rt.engine)
        refuse_if_used(rt)
        settle_heap()  # as `coldwarn serve` and `worker` do once started
        stop = multiprocessing.Event()
        senders = [multiprocessing.Process(target=send_until_stopped, args=(rt.settings, stop), daemon=True)
                   for _ in range(args.senders - 1)]
        for sender in senders:
            sender.start()
        before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        summary = run_cycle(rt, live_source(rt, as_of), deliver=False)
        committed = time.perf_counter() - started
        with Stopwatch(summary["timings_ms"], summary["high_water_mb"]).stage("deliver"):
            summary["deliveries"] = drain(rt.sessions, rt.http, rt.settings.delivery)
        wait_until_sent(rt, summary)
        wall = time.perf_counter() - started
        stop.set()
        for sender in senders:
            sender.join()
    finally:
        rt.close()
        cleanup()
        for process in processes:
            process.terminate()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {rt.engine.url.render_as_string(hide_password=True).split('?')[0]}")
    print(f"regions assessed: {summary['regions_assessed']}; feed requests ok: {summary['feeds']['ok']}, "
          f"rejected: {len(summary['feeds']['rejected'])}")
    print(f"alerts issued: {summary['alerts']['issued']}, tasks created: {summary['tasks_created']}, "
          f"messages: {summary['messages_enqueued']}, delivered: {summary['deliveries']}")
    print(f"memory before the cycle (imports, config): {before_mb:.0f} MB")
    for stage, ms in summary["timings_ms"].items():
        print(f"  {stage:<10} {ms / 1000:7.2f} s   peak so far {summary['high_water_mb'][stage]:>5} MB")
    print("  (plan runs inside persist and is counted in both)")
    print(f"subscribers: {'one per province' if args.per_province else 'one national'}, "
          f"{f'up to {args.batch} events' if args.batch else 'one event'} per POST; sending processes: {args.senders}")
    print(f"as of {as_of.isoformat()}; festivals decided: {summary['festivals']['decided']}")
    print(f"RESULT {'townships' if args.townships else 'counties'}={summary['regions_assessed']} "
          f"commit_s={committed:.2f} wall_s={wall:.2f} peak_rss_mb={peak:.0f} "
          f"alerts={summary['alerts']['issued']} tasks={summary['tasks_created']} messages={summary['messages_enqueued']}")


if __name__ == "__main__":
    main()
