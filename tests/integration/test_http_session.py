"""The HTTP session every channel sends through: proxy settings read once a minute per host,
connections kept alive, TLS verified against the configured CA bundle."""

from __future__ import annotations

import ssl
import threading
from urllib.parse import urlsplit

import pytest
import trustme

from notifiers.base import DELIVERED, RETRY
from notifiers.http import READ_LIMIT, HttpSession, post
from tests.emulators import webhook_receiver

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


@pytest.fixture
def serve():
    """Start a keep-alive receiver (optionally over TLS); the requests it got: (client port, body)."""
    servers = []

    def start(answer: bytes | list[bytes] = b"ok", tls: ssl.SSLContext | None = None):
        got = []
        server = webhook_receiver(lambda port, headers, body: got.append((port, body)), answer=answer)
        if tls:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
            server.handle_error = lambda request, address: None  # (the refused handshake)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}/hook", got
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_sends_to_one_receiver_reuse_one_connection(serve):
    url, got = serve()
    session = HttpSession()
    assert [send(session, url) for _ in range(3)] == [DELIVERED] * 3
    assert len({port for port, _ in got}) == 1 and len(got) == 3


def test_more_receivers_than_pools_kept_all_get_their_messages(serve):
    # requests keeps 10 connection pools and closes the least recently used: a pool remembered for a
    # receiver may have been closed since, and must be chosen afresh, not used closed.
    receivers = [serve() for _ in range(12)]
    session = HttpSession()
    for _ in range(2):
        assert [send(session, url) for url, _ in receivers] == [DELIVERED] * 12
    assert [len(got) for _, got in receivers] == [2] * 12


def test_a_long_answer_is_read_only_in_part_and_its_connection_not_reused(serve):
    # As much as is read first; the rest comes later, when the next request may already be on its way.
    url, got = serve(answer=[b"x" * READ_LIMIT, b"y" * 100_000])
    session = HttpSession()
    outcome, snippet = post(session, url, b'{"n": 1}', {"content-type": "application/json"}, 5, allow_private=True)
    assert outcome.status == DELIVERED and len(snippet) == READ_LIMIT
    # The unread rest must not be taken for the answer to the next request: a fresh connection carries it.
    assert send(session, url) == DELIVERED
    assert [body for _, body in got] == [b'{"n": 1}', b"{}"] and got[0][0] != got[1][0]


@pytest.fixture
def tls():
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return authority, context


def test_tls_receivers_are_verified_against_the_configured_ca_bundle(serve, tls, monkeypatch, tmp_path):
    authority, context = tls
    url, got = serve(tls=context)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    refused, _ = post(HttpSession(), url, b"{}", {}, 5, allow_private=True)
    assert refused.status == RETRY and "CERTIFICATE_VERIFY_FAILED" in refused.error and got == []
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert send(HttpSession(), url) == DELIVERED and len(got) == 1
