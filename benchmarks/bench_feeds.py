"""Fetch and normalise forecasts for every county-level region from a local Open-Meteo emulator.

    .venv/bin/python benchmarks/bench_feeds.py [--batch-size 100]

The emulator runs in its own process on loopback (so peak memory is the client's), answering in
Open-Meteo's format: 14 days (4 past + 10 forecast, as the live feed asks) of hourly values per
location, for every region with coordinates.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import resource
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

from tests.emulators import open_meteo_handler  # noqa: E402
from warning.config import load_regions  # noqa: E402
from warning.feeds.http import Fetcher  # noqa: E402
from warning.feeds.live import LiveSource  # noqa: E402
from warning.settings import SHIPPED_CONFIG_DIR, FeedSettings  # noqa: E402


def serve(port: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    handler = open_meteo_handler()

    def app(environ, start_response):
        return handler(Request(environ))(environ, start_response)
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    port = free_port()
    server = multiprocessing.Process(target=serve, args=(port,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1/forecast"
    for _ in range(100):
        try:
            requests.get(url, params={"latitude": "40", "longitude": "116"}, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    regions = load_regions(SHIPPED_CONFIG_DIR / "regions" / "regions.csv")
    settings = FeedSettings.model_validate({"open_meteo": {"url": url, "batch_size": args.batch_size}})
    source = LiveSource(settings, Fetcher(requests.Session()))
    started = time.perf_counter()
    pulled = source.pull(regions)
    wall = time.perf_counter() - started
    server.terminate()
    rows = sum(p.rows for p in pulled if p.ok)
    located = int(regions["latitude"].notna().sum())
    failed = [p.error for p in pulled if not p.ok]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"regions with coordinates: {located} of {len(regions)}")
    print(f"requests: {len(pulled)} (batches of {args.batch_size}), failed: {len(failed)}")
    print(f"rows (region x hour): {rows}")
    print(f"fetch + parse + validate: {wall:.2f} s ({rows / wall:,.0f} rows/s)")
    print(f"peak memory: {peak:.0f} MB")
    print(f"RESULT regions={located} requests={len(pulled)} rows={rows} wall_s={wall:.2f} peak_rss_mb={peak:.0f}")
    if failed:
        sys.exit(f"failures: {failed[:3]}")


if __name__ == "__main__":
    main()
