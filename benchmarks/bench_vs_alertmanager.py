"""Webhooks per second to one receiver: coldwarn's signed, durable delivery beside Prometheus
Alertmanager's, in the same run, taking turns.

    .venv/bin/python benchmarks/bench_vs_alertmanager.py [--messages 3000] [--rounds 7] [--in-flight 16]
        [--connections 1] [--database-url URL]

Alertmanager is Debian's `prometheus-alertmanager` (installed with apt-get when missing, which needs
root), run on loopback with clustering off. It is given one webhook receiver and a route that sends
every alert on its own at once (`group_by: ['...']`, `group_wait: 0s`): N alerts posted to its API
become N webhooks. coldwarn gets N messages in its outbox for one JSON subscriber and drains them as a
worker does, `--in-flight` requests on their way at once over `--connections` connections (its
`per_endpoint`; each pipelines in_flight / connections: 1 connection is an in-order subscriber). Both
post to the same receiver (its own process, keeping connections alive, answering 200 at once); the
receiver's CPU while each sends is printed too (near a whole core, the receiver is the limit).

Each round times both, one after the other: Alertmanager from the first POST of alerts to its API
until the receiver has them all (its intake is in memory), coldwarn from the commit of its outbox
rows (on disk, in PostgreSQL: a fresh schema unless --database-url names an empty database) until
the receiver has them all. The figures are the medians over the rounds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import yaml  # noqa: E402

from benchmarks.bench_cycle import fresh_schema  # noqa: E402
from benchmarks.bench_delivery import SECRET, enqueue, free_port, wait_for  # noqa: E402
from notifiers.http import HttpSession  # noqa: E402
from tests.emulators import webhook_receiver  # noqa: E402
from warning.db import make_engine, session_factory, upgrade  # noqa: E402
from warning.delivery import drain  # noqa: E402
from warning.models import Subscription, utcnow  # noqa: E402
from warning.settings import DeliverySettings  # noqa: E402

ALERTMANAGER = "prometheus-alertmanager"
INTAKE_BATCH = 500  # alerts per POST to Alertmanager's API


def alertmanager_binary() -> str:
    found = shutil.which(ALERTMANAGER)
    if found:
        return found
    print(f"{ALERTMANAGER} is missing: installing Debian's package", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", ALERTMANAGER], check=True)
    return shutil.which(ALERTMANAGER) or sys.exit(f"{ALERTMANAGER} still missing after apt-get")


def receive(port: int, log_path: str) -> None:
    """One line per webhook, whose it is and when it came, written before the answer."""
    log = open(log_path, "a", buffering=1)

    def note(_port, headers, _body):
        sender = "cw" if headers.get("webhook-id") else "am" if "Alertmanager" in headers.get("user-agent", "") else None
        if sender:
            log.write(f"{sender} {time.time()}\n")
    webhook_receiver(note, port).serve_forever()


def start_alertmanager(folder: Path, hook: str) -> tuple[subprocess.Popen, str]:
    config = {"route": {"receiver": "hook", "group_by": ["..."], "group_wait": "0s", "group_interval": "1h",
                        "repeat_interval": "24h"},
              "receivers": [{"name": "hook", "webhook_configs": [{"url": hook, "send_resolved": False}]}]}
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [alertmanager_binary(), f"--config.file={folder / 'alertmanager.yml'}", f"--storage.path={folder / 'am-data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=open(folder / "alertmanager.log", "w"))
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/-/ready")
    return process, url


def received(log_path: Path, sender: str) -> list[float]:
    return [float(line.split()[1]) for line in log_path.read_text().splitlines() if line.startswith(sender + " ")]


def wait_for_all(log_path: Path, sender: str, count: int, timeout_s: float = 300) -> float:
    """When the last of the first `count` webhooks from `sender` came."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        times = received(log_path, sender)
        if len(times) >= count:
            return max(times)
        time.sleep(0.05)
    raise SystemExit(f"the receiver got {len(received(log_path, sender))} of {count} from {sender} in {timeout_s} s")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alertmanager_round(url: str, log_path: Path, round_number: int, count: int) -> float:
    before = len(received(log_path, "am"))
    now = datetime.now(timezone.utc)
    alerts = [{"labels": {"alertname": "ColdWave", "region": f"{round_number}-{n:06d}", "severity": "orange"},
               "annotations": {"summary": "x" * 400}, "startsAt": now.isoformat(),
               "endsAt": (now + timedelta(hours=1)).isoformat()} for n in range(count)]
    started = time.time()
    for first in range(0, count, INTAKE_BATCH):
        requests.post(f"{url}/api/v2/alerts", json=alerts[first:first + INTAKE_BATCH], timeout=30).raise_for_status()
    return count / (wait_for_all(log_path, "am", before + count) - started)


def coldwarn_round(sessions, http: HttpSession, settings: DeliverySettings, log_path: Path, count: int) -> float:
    before = len(received(log_path, "cw"))
    committed = enqueue(sessions, count)
    while drain(sessions, http, settings)["delivered"]:
        pass
    return count / (wait_for_all(log_path, "cw", before + count) - committed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7,
                        help="Alertmanager's rate swings by a third from round to round: medians of several")
    parser.add_argument("--in-flight", type=int, default=16, help="coldwarn's requests on their way at once")
    parser.add_argument("--connections", type=int, default=1, help="coldwarn's connections to the subscriber")
    parser.add_argument("--database-url", help="an empty database; default: a fresh schema in the local PostgreSQL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coldwarn-vs-am-"))
    log_path = folder / "received.log"
    log_path.touch()
    port = free_port()
    receiver = multiprocessing.Process(target=receive, args=(port, str(log_path)), daemon=True)
    receiver.start()
    wait_for(f"http://127.0.0.1:{port}/probe")
    database_url, cleanup = (args.database_url, lambda: None) if args.database_url else fresh_schema()
    engine = make_engine(database_url)
    alertmanager = None
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            if session.query(Subscription).count():
                sys.exit("the database has subscriptions already: give the benchmark an empty one")
            session.add(Subscription(name="receiver", url=f"http://127.0.0.1:{port}/cw", secrets=[SECRET], regions=[],
                                     events=["alert.issued"], format="json", source="cli", enabled=True,
                                     created_at=utcnow()))
        settings = DeliverySettings(workers=args.connections, per_endpoint=args.connections, batch_size=500,
                                    pipeline_depth=max(1, args.in_flight // args.connections),
                                    allow_private_targets=True)
        alertmanager, am_url = start_alertmanager(folder, f"http://127.0.0.1:{port}/am")
        http, rates = HttpSession(), {"coldwarn": [], "alertmanager": []}
        busy = {"coldwarn": [], "alertmanager": []}  # the receiver's CPU while each sent, in cores
        for round_number in range(args.rounds):
            for sender, run in (("coldwarn", lambda: coldwarn_round(sessions, http, settings, log_path, args.messages)),
                                ("alertmanager", lambda: alertmanager_round(am_url, log_path, round_number,
                                                                            args.messages))):
                cpu_before = cpu_seconds(receiver.pid)
                rates[sender].append(run())
                busy[sender].append((cpu_seconds(receiver.pid) - cpu_before) * rates[sender][-1] / args.messages)
            print(f"round {round_number + 1}: coldwarn {rates['coldwarn'][-1]:,.0f}/s, "
                  f"alertmanager {rates['alertmanager'][-1]:,.0f}/s; the receiver busy "
                  f"{busy['coldwarn'][-1]:.0%} and {busy['alertmanager'][-1]:.0%} of a core", flush=True)
        version = subprocess.run([alertmanager_binary(), "--version"], capture_output=True, text=True)
    finally:
        if alertmanager is not None:
            alertmanager.terminate()
        engine.dispose()
        cleanup()
        receiver.terminate()
    coldwarn, am = statistics.median(rates["coldwarn"]), statistics.median(rates["alertmanager"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{(version.stdout or version.stderr).splitlines()[0]}")
    print(f"{args.messages} webhooks a round, {args.rounds} rounds; coldwarn {args.in_flight} in flight on "
          f"{args.connections} connection(s), outbox on "
          f"{engine.url.render_as_string(hide_password=True).split('?')[0]}")
    print(f"RESULT messages={args.messages} in_flight={args.in_flight} connections={args.connections} "
          f"coldwarn_per_s={coldwarn:.0f} "
          f"alertmanager_per_s={am:.0f} ratio={coldwarn / am:.2f} "
          f"receiver_busy_coldwarn={statistics.median(busy['coldwarn']):.2f} "
          f"receiver_busy_alertmanager={statistics.median(busy['alertmanager']):.2f} peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
