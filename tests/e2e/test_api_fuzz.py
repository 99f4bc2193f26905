"""Schemathesis generates requests from /api/v1/openapi.json and sends them to the live app over
loopback HTTP, as an admin (who reaches every code path) and as a county user (who meets the
refusals): none may answer 5xx."""

from __future__ import annotations

import shutil
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, settings_env
from warning.accounts import create_token, create_user
from warning.cycle import run_cycle
from warning.db import upgrade
from warning.runtime import Runtime
from warning.settings import SHIPPED_CONFIG_DIR, load_settings
from warning.sources import open_source
from warning.web import create_app
from warning.web.openapi import OPENAPI

schema = schemathesis.openapi.from_dict(OPENAPI)


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


@pytest.mark.parametrize("role", ["admin", "county"])
@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None,  # the same requests on every run
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(live_app, role, case):
    base, tokens = live_app
    response = case.call(base_url=base, headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=60)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:  # every refusal is a problem document naming what was wrong
        content_type = response.headers.get("content-type") or [""]  # schemathesis keeps each header as a list
        assert content_type[0].startswith("application/problem+json"), response.text[:200]
