"""Delivery under stress: bounded per endpoint, disabled after days of failure, and a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from warning.cycle import run_cycle
from warning.delivery import drain
from warning.models import OutboxMessage, Subscription, utcnow
from warning.sources import open_source
from tests.conftest import TEST_SECRET, settings_env, write_subscription


class SlowReceiver:
    """A real threaded HTTP server on loopback that takes its time and remembers what it saw."""

    def __init__(self, delay_s: float):
        self.delay_s, self.ids, self.in_flight, self.most_in_flight = delay_s, [], 0, 0
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def app(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delay_s)
        with self.lock:
            self.in_flight -= 1
            self.ids.append(request.headers["webhook-id"])
        return Response("ok")(environ, start_response)

    def close(self):
        self.server.shutdown()


@pytest.fixture
def slow_receiver():
    receiver = SlowReceiver(0.3)
    yield receiver
    receiver.close()


def test_no_more_than_per_endpoint_sends_reach_one_subscriber_at_once(make_runtime, config_dir, slow_receiver):
    write_subscription(config_dir, slow_receiver.url, events=["alert.issued"], regions=["220800"])
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("per_endpoint = 1 ", "per_endpoint = 2 "))
    rt = make_runtime()
    summary = run_cycle(rt, open_source(rt, "demo"))
    assert summary["deliveries"]["delivered"] == len(slow_receiver.ids) > 2
    assert slow_receiver.most_in_flight == 2


def test_an_endpoint_failing_for_days_is_disabled_and_admins_are_told(make_runtime, config_dir, httpserver):
    import yaml
    httpserver.expect_request("/down").respond_with_data("still down", status=503)
    httpserver.expect_request("/admin").respond_with_data("ok")
    (config_dir / "subscriptions.yaml").write_text(yaml.safe_dump({"subscriptions": [
        {"name": "county-platform", "url": httpserver.url_for("/down"), "secrets": [TEST_SECRET],
         "events": ["alert.issued"], "regions": ["220802"]},
        {"name": "ops", "url": httpserver.url_for("/admin"), "secrets": [TEST_SECRET], "events": ["subscription.disabled"]},
    ]}), encoding="utf-8")
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions.begin() as session:  # it has been failing for three days already
        session.execute(update(Subscription).where(Subscription.name == "county-platform")
                        .values(failing_since=utcnow() - timedelta(hours=73)))
    drain(rt.sessions, rt.http, rt.settings.delivery)
    drain(rt.sessions, rt.http, rt.settings.delivery)
    with rt.sessions() as session:
        platform = session.scalars(select(Subscription).where(Subscription.name == "county-platform")).one()
    assert not platform.enabled and platform.disabled_reason.startswith("failing since")
    told = [Webhook(TEST_SECRET).verify(r.get_data(), dict(r.headers)) for r, _ in httpserver.log if r.path == "/admin"]
    assert [(e["type"], e["data"]["subscription"]) for e in told] == [("subscription.disabled", "county-platform")]


COLDWARN = str(Path(sys.executable).parent / "coldwarn")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_resends_with_the_same_ids(
        make_runtime, config_dir, database_url, tmp_path, slow_receiver):
    write_subscription(config_dir, slow_receiver.url, events=["alert.issued"], regions=["220800", "220700"])
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("lease_s = 120", "lease_s = 10")
                        .replace("workers = 8 ", "workers = 2 "))
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        expected = set(session.scalars(select(OutboxMessage.message_id)))
    env = {**os.environ, **settings_env(config_dir, database_url, tmp_path)}

    worker = subprocess.Popen([COLDWARN, "deliver"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(slow_receiver.ids) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # no goodbye: mid-batch, maybe mid-request
    worker.wait()
    assert 4 <= len(set(slow_receiver.ids)) < len(expected)

    time.sleep(11)  # the dead worker's leases run out
    subprocess.run([COLDWARN, "deliver"], env=env, check=True, capture_output=True, timeout=120)
    assert set(slow_receiver.ids) == expected  # every event reached the receiver
    assert len(slow_receiver.ids) >= len(expected)  # some perhaps twice, always under the same webhook-id
    with rt.sessions() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {"delivered"}
