"""One HTTP POST to a receiver, judged the same way for every HTTP channel."""

from __future__ import annotations

import email.utils
import functools
import os
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy

from notifiers.base import DELIVERED, GONE, PERMANENT, RETRY, Outcome, truncate
from notifiers.deadline import DeadlineAdapter, deadline
from notifiers.targets import UnsafeTarget, check_url, scrub

RETRYABLE_4XX = {408, 429}
READ_LIMIT = 4096  # enough for a robot's {"errcode": …} answer; a receiver may answer with anything
ENVIRONMENT_TTL_S = 60.0
CONNECTIONS_PER_HOST = 64  # idle connections kept per receiver: as many as sends can be in flight


class HttpSession(requests.Session):
    """A requests session that reads the proxy and CA-bundle settings of the environment (HTTPS_PROXY,
    NO_PROXY, REQUESTS_CA_BUNDLE, …) once a minute per host instead of on every request: requests scans
    every environment variable each time, a fifth of a webhook send's cost. Channels POST through
    `post_once`, which keeps requests' choice of proxy and TLS settings but skips the rest of its
    machinery (cookies, netrc, hooks, redirects, the Response object): half a send's cost."""

    def __init__(self):
        super().__init__()
        self.environment_by_host: dict[tuple, tuple[float, dict]] = {}
        self.pool_by_url: dict[str, tuple[float, object, str]] = {}  # url -> (read at, pool, target)
        self.route_by_url: dict[str, tuple[float, Route | None]] = {}
        for scheme in ("http://", "https://"):
            self.mount(scheme, DeadlineAdapter(pool_maxsize=CONNECTIONS_PER_HOST))

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or not self.trust_env:  # (a call's own proxies are merged afresh)
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname, parts.port, stream, verify, cert)
        read_at, settings = self.environment_by_host.get(key, (None, None))
        if read_at is None or time.monotonic() - read_at >= ENVIRONMENT_TTL_S:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self.environment_by_host[key] = (time.monotonic(), settings)
        return settings | {"proxies": dict(settings["proxies"])}  # (requests may change its copy)

    def post_once(self, url: str, body: bytes, headers: dict, timeout_s: float) -> tuple[int, dict, bytes]:
        """POST once, no redirects followed, on a kept-alive connection; the status, the headers and
        the first READ_LIMIT bytes of the answer. Raises requests' or urllib3's errors."""
        pool, target = self.pool_for(url)
        sent_headers = CaseInsensitiveDict(self.headers)
        sent_headers.update(headers)
        response = pool.urlopen("POST", target, body=body,
                                headers=dict(sent_headers.items()), redirect=False, assert_same_host=False,
                                retries=False, preload_content=False,
                                timeout=urllib3.Timeout(connect=min(5.0, timeout_s), read=timeout_s))
        try:
            if 200 <= response.status < 300 and not framed(response):
                raise urllib3.exceptions.ProtocolError(CUT_OFF)
            answer = response.read(READ_LIMIT)
            if not response.closed:  # more than we read: the connection cannot carry another request
                response.close()
        finally:
            response.release_conn()
        return response.status, response.headers, answer


    def pool_for(self, url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
        """The connection pool requests would choose for this URL (its proxy, its CA bundle checked on
        disk) and the target to ask it for, chosen again as often as the environment is read (choosing
        it on every send was a tenth of the send), or when the pool has been closed (evicted)."""
        read_at, pool, target = self.pool_by_url.get(url, (None, None, ""))
        if read_at is None or time.monotonic() - read_at >= ENVIRONMENT_TTL_S or pool.pool is None:
            request, settings, adapter = prepared(url), self.merge_environment_settings(url, {}, True, None, None), \
                self.get_adapter(url)
            pool = adapter.get_connection_with_tls_context(request, settings["verify"], settings["proxies"],
                                                           settings["cert"])
            adapter.cert_verify(pool, url, settings["verify"], settings["cert"])
            target = adapter.request_url(request, settings["proxies"])
            self.pool_by_url[url] = (time.monotonic(), pool, target)
        return pool, target


    def route_for(self, url: str) -> Route | None:
        """How to reach this URL on a socket of our own, as requests would (its TLS verification and
        client certificate); None when the environment sends it through a proxy. Read again as often
        as the environment."""
        read_at, route = self.route_by_url.get(url, (None, None))
        if read_at is None or time.monotonic() - read_at >= ENVIRONMENT_TTL_S:
            settings = self.merge_environment_settings(url, {}, True, None, None)
            route = None if select_proxy(url, settings["proxies"]) else route_of(
                prepared(url).url, settings["verify"], settings["cert"])
            self.route_by_url[url] = (time.monotonic(), route)
        return route


@dataclass(frozen=True)
class Route:
    """A receiver reached directly: where to connect, what to ask for, and TLS when https."""
    host: str
    port: int
    target: str  # the path and query, as sent on the request line
    host_header: str
    tls: ssl.SSLContext | None


def route_of(url: str, verify, cert) -> Route:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    default_port = 443 if https else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.hostname if parts.port in (None, default_port) else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:  # an IPv6 literal keeps its brackets in the Host header
        host_header = parts.netloc.rpartition("@")[2]
    return Route(parts.hostname, parts.port or default_port, target, host_header,
                 tls_context(verify, cert if cert is None or isinstance(cert, str) else tuple(cert)) if https else None)


@functools.lru_cache(maxsize=16)
def tls_context(verify, cert) -> ssl.SSLContext:
    """A client context as requests builds it: the CA bundle it would use (certifi's unless
    REQUESTS_CA_BUNDLE or the session says another, a file or a folder), or no verification."""
    context = ssl.create_default_context(cafile=None) if verify is False else (
        ssl.create_default_context(capath=verify) if isinstance(verify, str) and os.path.isdir(verify)
        else ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH if verify is True else verify))
    if verify is False:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if cert:
        context.load_cert_chain(*((cert,) if isinstance(cert, str) else cert))
    context.set_alpn_protocols(["http/1.1"])
    return context


CUT_OFF = ("answer cut off: its headers say neither Content-Length, chunked Transfer-Encoding nor "
           "Connection: close (the connection closed inside them)")


def framed(response: urllib3.BaseHTTPResponse) -> bool:
    """Whether an HTTP/1.1 answer says where its body ends. Every server does; headers cut off by a
    closed connection do not (http.client takes the close as their end), and such a 200 must not
    count as delivered."""
    headers = response.headers
    return (response.version != 11 or "content-length" in headers
            or "chunked" in headers.get("transfer-encoding", "").lower()
            or "close" in headers.get("connection", "").lower())


@functools.lru_cache(maxsize=4096)
def prepared(url: str) -> requests.PreparedRequest:
    """The URL as requests would send it (IDNA host, quoted path), made once per receiver URL."""
    request = requests.PreparedRequest()
    request.prepare_url(url, None)
    return request


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def classify(code: int, headers, snippet: str, latency_ms: float) -> Outcome:
    """`headers`: case-insensitive (urllib3's), or with names in lower case (the pipeline's)."""
    if 200 <= code < 300:
        return Outcome(DELIVERED, code, latency_ms)
    error = truncate(f"HTTP {code}: {snippet}")
    if code == 410:
        return Outcome(GONE, code, latency_ms, error)
    if code >= 500 or code in RETRYABLE_4XX:
        return Outcome(RETRY, code, latency_ms, error, retry_after_seconds(headers.get("retry-after")))
    return Outcome(PERMANENT, code, latency_ms, error)


def post(session: HttpSession, url: str, body: bytes, headers: dict, timeout_s: float,
         allow_private: bool) -> tuple[Outcome, str]:
    """POST once without following redirects; the outcome by HTTP status, and the start of the answer.

    Errors never carry the URL's query values (a robot's key lives there).
    """
    try:
        check_url(url, allow_private)
    except UnsafeTarget as error:
        return Outcome(PERMANENT, error=str(error)), ""
    started = time.monotonic()
    try:
        with deadline(timeout_s) as limit:
            code, answer_headers, answer = session.post_once(url, body, headers, timeout_s)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        latency_ms = (time.monotonic() - started) * 1000
        reason = (f"no complete answer within the {timeout_s:g} s deadline" if limit.passed
                  else f"{type(error).__name__}: {error}")
        return Outcome(RETRY, None, latency_ms, truncate(scrub(reason, url))), ""
    latency_ms = (time.monotonic() - started) * 1000
    snippet = scrub(answer.decode("utf-8", "replace"), url)
    return classify(code, answer_headers, snippet, latency_ms), snippet
