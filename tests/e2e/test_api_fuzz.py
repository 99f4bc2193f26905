"""Schemathesis, as an integrator would run it: `schemathesis run` with every check against the served
/api/v1/openapi.json of the live app on loopback, as an admin (who reaches every code path) and as a
county user (who meets the refusals). Any finding fails the test: a server error, a status, header,
content type or body the document does not describe, invalid data accepted, a method answered
without 405 and Allow, auth ignored.

One exemption, said here so nobody mistakes it for a pass: `positive_data_acceptance` (schema-valid
data must be accepted) is off for the operations whose body is a document in another language that
JSON Schema cannot describe — CSV uploads, rules YAML, a chat reply's words — for adding a
subscription, whose rules across fields (each channel's secret format, the target address check)
are the config file's own, for a task's figures, whose measures are the playbook's (config, not the
schema's), and for the outcome report, whose period must run forwards (a rule across two fields).
Those answer 422 with every problem named, which the other checks still hold them to."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, settings_env
from warning.accounts import create_token, create_user
from warning.cycle import run_cycle
from warning.db import upgrade
from warning.runtime import Runtime
from warning.settings import SHIPPED_CONFIG_DIR, load_settings
from warning.sources import open_source
from warning.web import create_app

CONFIG = """
[checks]
enabled = true  # every check, as `--checks all`; a per-operation line below can then turn one off

[[operations]]
include-path-regex = "^/api/v1/(caseload|shelters|subscriptions|rules|rules/validate|rules/preview|outcomes/reply|tasks/[^/]+/outcomes)$"
include-method-regex = "^(POST|PUT)$"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path-regex = "^/api/v1/reports/outcomes$"
include-method-regex = "^GET$"
checks.positive_data_acceptance.enabled = false
"""


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The demo after one cycle, served on loopback; yields (base URL, {role: token})."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SHIPPED_CONFIG_DIR, root / "config")
    rt = Runtime.start(load_settings(settings_env(root / "config", f"sqlite:///{root / 'coldwarn.db'}", root)))
    upgrade(rt.engine)
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    tokens = {}
    with rt.sessions.begin() as session:
        for name, role, region in [("root", "admin", None), ("nanguan", "county", "220102")]:
            create_user(session, name, role, region, PASSWORD, rt.config.area_codes, actor="test")
            tokens[role] = create_token(session, name, "fuzz", actor="test")
    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", tokens
    server.shutdown()
    rt.close()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", ["admin", "county"])
def test_schemathesis_checks_all_find_nothing(live_app, role, tmp_path):
    base, tokens = live_app
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "--no-color",
               "run", f"{base}/api/v1/openapi.json",
               "-H", f"Authorization: Bearer {tokens[role]}",
               "--max-examples", "25", "--seed", "20261202", "--workers", "1",  # bounded, and the same on every run
               "--generation-database", "none", "--report-dir", str(tmp_path / "report")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=540, cwd=tmp_path)  # (its cache too)
    summary = run.stdout[-8000:]
    assert run.returncode == 0, summary
    operations = sum(len(p) for p in requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()["paths"].values())
    assert re.search(rf"Tested: {operations}\b", summary), summary  # every documented operation was exercised
