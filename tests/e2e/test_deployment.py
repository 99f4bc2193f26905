"""The web as docs/deployment.md runs it: gunicorn with several workers, no scheduler inside."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import settings_env
from tests.e2e.test_cli import free_port, run

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def test_gunicorn_serves_the_app_factory_without_running_cycles(config_dir, tmp_path):
    env = settings_env(config_dir, f"sqlite:///{tmp_path / 'cw.db'}", tmp_path, COLDWARN_SECRET_KEY="shared-by-every-worker")
    assert run(["db", "upgrade"], env).returncode == 0
    port = free_port()
    server = subprocess.Popen([GUNICORN, "--workers", "2", "--bind", f"127.0.0.1:{port}", "warning.web:create_app()"],
                              env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=2).json() == {"status": "ok"}:
                    break
            except (requests.ConnectionError, requests.Timeout):  # gunicorn accepts before its workers are up
                time.sleep(0.3)
        assert requests.get(base + "/login", timeout=5).status_code == 200
        families = text_string_to_metric_families(requests.get(base + "/metrics", timeout=5).text)
        assert not [s for f in families if f.name == "coldwarn_cycles" for s in f.samples]  # no cycle ran inside
        time.sleep(2)
        ready = requests.get(base + "/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["problems"] == ["scheduler: no cycle has run yet"]
    finally:
        server.terminate()
        server.wait(timeout=20)
