"""The HTTP session every channel sends through reads proxy settings once a minute, per host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from notifiers.base import DELIVERED, RETRY
from notifiers.http import HttpSession, post

UNRESOLVABLE = "http://coldwarn-receiver.invalid/hook"  # reachable only through the proxy


@pytest.fixture
def proxy_env(monkeypatch, httpserver):
    """The test server doubles as the HTTP proxy; loopback itself is exempt through NO_PROXY."""
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{httpserver.port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    httpserver.expect_request("/hook").respond_with_data("ok")
    return httpserver


def hosts_seen(httpserver) -> list[str]:
    return [request.headers["Host"] for request, _ in httpserver.log]


def send(session: HttpSession, url: str) -> str:
    return post(session, url, b"{}", {"content-type": "application/json"}, 5, allow_private=True)[0].status


def test_each_host_gets_its_own_proxy_decision_from_the_environment(proxy_env):
    session = HttpSession()
    direct = proxy_env.url_for("/hook")
    # Loopback first (exempt, goes direct), then a host only the proxy can reach, then loopback again:
    # a decision remembered for the wrong host would send the second one direct, where it cannot resolve.
    assert [send(session, url) for url in (direct, UNRESOLVABLE, direct)] == [DELIVERED] * 3
    here = urlsplit(direct).netloc
    assert hosts_seen(proxy_env) == [here, "coldwarn-receiver.invalid", here]


def test_a_proxy_removed_from_the_environment_stops_being_used_within_a_minute(proxy_env, monkeypatch):
    session = HttpSession()
    assert send(session, UNRESOLVABLE) == DELIVERED
    monkeypatch.delenv("HTTP_PROXY")
    assert send(session, UNRESOLVABLE) == DELIVERED  # read less than a minute ago: still the proxy
    monkeypatch.setattr("notifiers.http.ENVIRONMENT_TTL_S", 0.0)  # as if the minute had passed
    assert send(session, UNRESOLVABLE) == RETRY  # direct now: the host does not resolve
    assert len(proxy_env.log) == 2
