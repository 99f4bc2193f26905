"""Deliveries per second to a local receiver over 1, 4 and 16 connections (each pipelining up to the
default pipeline_depth), and the latency
from commit to receipt for a message sent as soon as it is committed.

    .venv/bin/python benchmarks/bench_delivery.py [--messages 1500] [--database-url URL]

The receiver runs in its own process on loopback, keeps connections alive (as production receivers
do) and answers 200 at once; the outbox lives in a
fresh SQLite file unless --database-url names another, empty one (e.g. a fresh PostgreSQL schema:
postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench).
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import resource
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from notifiers.http import HttpSession  # noqa: E402
from tests.emulators import webhook_receiver  # noqa: E402
from warning.db import make_engine, session_factory, upgrade  # noqa: E402
from warning.delivery import drain  # noqa: E402
from warning.events import Outbox  # noqa: E402
from warning.models import Subscription, utcnow  # noqa: E402
from warning.settings import DeliverySettings  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"benchmark-secret-of-32-bytes-ok!").decode()


def receive(port: int, log_path: str) -> None:
    log = open(log_path, "a", buffering=1)

    def note(client_port, headers, body):
        if headers.get("webhook-id"):  # (the start-up probe has none)
            log.write(f"{headers['webhook-id']} {time.time()}\n")
    webhook_receiver(note, port).serve_forever()


def enqueue(sessions, count: int) -> float:
    with sessions.begin() as session:
        outbox = Outbox(session, None, utcnow(), 0)
        for n in range(count):
            outbox.add("alert.issued", "220102", {"n": n, "pad": "x" * 400})
    return time.time()  # committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coldwarn-bench-"))
    engine = make_engine(args.database_url or f"sqlite:///{folder / 'bench.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:  # every enabled subscriber would get the messages, and skew the figures
        if session.scalar(select(func.count()).select_from(Subscription)):
            sys.exit(f"{args.database_url} has subscriptions already: give the benchmark an empty database or schema")
    port = free_port()
    log_path = folder / "received.log"
    server = multiprocessing.Process(target=receive, args=(port, str(log_path)), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/hook"
    wait_for(url)
    with sessions.begin() as session:
        session.add(Subscription(name=f"bench-{uuid.uuid4().hex[:6]}", url=url, secrets=[SECRET], regions=[],
                                 events=["alert.issued"], format="json", source="cli", enabled=True, created_at=utcnow()))
    http = HttpSession()
    rates = {}
    for inflight in (1, 4, 16):
        settings = DeliverySettings(workers=inflight, per_endpoint=inflight, batch_size=200, allow_private_targets=True)
        enqueue(sessions, args.messages)
        started = time.perf_counter()
        counts = drain(sessions, http, settings)
        rates[inflight] = counts["delivered"] / (time.perf_counter() - started)
        print(f"{inflight:>2} connection(s): {counts['delivered']} delivered, {rates[inflight]:,.0f}/s")
    latencies = []
    settings = DeliverySettings(allow_private_targets=True)
    for _ in range(100):
        committed = enqueue(sessions, 1)
        drain(sessions, http, settings)
        last = log_path.read_text().splitlines()[-1]  # the receiver writes each line before answering
        latencies.append((float(last.split()[1]) - committed) * 1000)
    server.terminate()
    p50 = statistics.median(latencies)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"commit to receipt, sent at once: p50 {p50:.1f} ms, p95 {statistics.quantiles(latencies, n=20)[-1]:.1f} ms")
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    print(f"RESULT deliveries={args.messages} per_s_1={rates[1]:.0f} per_s_4={rates[4]:.0f} per_s_16={rates[16]:.0f} "
          f"p50_latency_ms={p50:.1f} peak_rss_mb={peak:.0f}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)


if __name__ == "__main__":
    main()
