"""The memory of a running `coldwarn serve` after it has run a national cycle of every county.

    .venv/bin/python benchmarks/bench_serve_memory.py [--database-url URL] [--wait 600]

Starts `coldwarn serve --live` (web and scheduler in one process, as `make run` does) on the live
Open-Meteo client pointed at the local emulator (its own process) with a sharp cold wave over the
whole country, a fresh PostgreSQL schema (or an empty database given), and one webhook subscriber
that receives on loopback. Once the first cycle is recorded and its messages delivered, it reads the
server process's resident memory (VmRSS) and its peak (VmHWM) from /proc, then stops it. The clock
is the machine's: `serve` has no other, and the emulator's forecast starts from the same day.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.bench_cycle import emulate, fresh_schema  # noqa: E402
from benchmarks.bench_delivery import SECRET, free_port, receive, wait_for  # noqa: E402
from warning.db import make_engine, session_factory  # noqa: E402
from warning.models import CycleRun, OutboxMessage  # noqa: E402
from warning.settings import SHIPPED_CONFIG_DIR  # noqa: E402


def memory_mb(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


def first_cycle_done(sessions) -> dict | None:
    """The first cycle's summary once it is recorded and nothing is left to send."""
    with sessions() as session:
        run = session.scalars(select(CycleRun).where(CycleRun.status.in_(["ok", "failed"]))).first()
        pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending"))
    return run.summary | {"status": run.status} if run is not None and not pending else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database; default: a fresh schema in the local PostgreSQL")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for the first cycle")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coldwarn-serve-"))
    shutil.copytree(SHIPPED_CONFIG_DIR, folder / "config")
    forecast_port, receiver_port, web_port = free_port(), free_port(), free_port()
    helpers = [multiprocessing.Process(target=emulate, args=(forecast_port, True, None), daemon=True),
               multiprocessing.Process(target=receive, args=(receiver_port, str(folder / "received.log")), daemon=True)]
    for helper in helpers:
        helper.start()
    wait_for(f"http://127.0.0.1:{forecast_port}/v1/forecast?latitude=40&longitude=116")
    (folder / "config" / "subscriptions.yaml").write_text(yaml.safe_dump({"subscriptions": [
        {"name": "national-platform", "url": f"http://127.0.0.1:{receiver_port}/hook", "secrets": [SECRET], "batch": 100}]}))
    database_url, cleanup = (args.database_url, lambda: None) if args.database_url else fresh_schema()
    environment = os.environ | {
        "COLDWARN_CONFIG_DIR": str(folder / "config"), "COLDWARN_DATABASE_URL": database_url,
        "COLDWARN_INSTANCE_DIR": str(folder / "instance"), "COLDWARN_ALLOW_PRIVATE_TARGETS": "1", "COLDWARN_SCENARIO": "",
        "COLDWARN_OPEN_METEO_URL": f"http://127.0.0.1:{forecast_port}/v1/forecast", "COLDWARN_SECURE_COOKIES": "0"}
    coldwarn = Path(sys.executable).with_name("coldwarn")
    server = subprocess.Popen([str(coldwarn), "serve", "--live", "--port", str(web_port)], env=environment,
                              stdout=subprocess.DEVNULL, stderr=open(folder / "serve.log", "w"))
    engine = make_engine(database_url)
    try:
        wait_for(f"http://127.0.0.1:{web_port}/healthz")
        started_mb = memory_mb(server.pid)
        deadline, summary = time.monotonic() + args.wait, None
        while summary is None and time.monotonic() < deadline and server.poll() is None:
            time.sleep(1)
            summary = first_cycle_done(session_factory(engine))
        if summary is None:
            raise SystemExit(f"no cycle finished within {args.wait:.0f} s; see {folder / 'serve.log'}")
        after_mb = memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
        engine.dispose()
        cleanup()
        for helper in helpers:
            helper.terminate()
    print(f"coldwarn serve: {started_mb['VmRSS']:.0f} MB once started; after the first national cycle "
          f"({summary['status']}: {summary['regions_assessed']} regions, {summary['alerts']['issued']} alerts, "
          f"{summary['messages_enqueued']} messages delivered) {after_mb['VmRSS']:.0f} MB resident, "
          f"peak {after_mb['VmHWM']:.0f} MB")
    print(f"RESULT regions={summary['regions_assessed']} started_rss_mb={started_mb['VmRSS']:.0f} "
          f"rss_after_cycle_mb={after_mb['VmRSS']:.0f} peak_rss_mb={after_mb['VmHWM']:.0f}")


if __name__ == "__main__":
    main()
