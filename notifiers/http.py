"""One HTTP POST to a receiver, judged the same way for every HTTP channel."""

from __future__ import annotations

import email.utils
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from notifiers.base import DELIVERED, GONE, PERMANENT, RETRY, Outcome, truncate
from notifiers.targets import UnsafeTarget, check_url, scrub

RETRYABLE_4XX = {408, 429}
READ_LIMIT = 4096  # enough for a robot's {"errcode": …} answer; a receiver may answer with anything
ENVIRONMENT_TTL_S = 60.0


class HttpSession(requests.Session):
    """A requests session that reads the proxy and CA-bundle settings of the environment (HTTPS_PROXY,
    NO_PROXY, REQUESTS_CA_BUNDLE, …) once a minute per host instead of on every request: requests scans
    every environment variable each time, a fifth of a webhook send's cost."""

    def __init__(self):
        super().__init__()
        self.environment_by_host: dict[tuple, tuple[float, dict]] = {}

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
    if 200 <= code < 300:
        return Outcome(DELIVERED, code, latency_ms)
    error = truncate(f"HTTP {code}: {snippet}")
    if code == 410:
        return Outcome(GONE, code, latency_ms, error)
    if code >= 500 or code in RETRYABLE_4XX:
        return Outcome(RETRY, code, latency_ms, error, retry_after_seconds(headers.get("Retry-After")))
    return Outcome(PERMANENT, code, latency_ms, error)


def post(session: requests.Session, url: str, body: bytes, headers: dict, timeout_s: float,
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
        response = session.post(url, data=body, headers=headers, timeout=(min(5.0, timeout_s), timeout_s),
                                allow_redirects=False, stream=True)
        latency_ms = (time.monotonic() - started) * 1000
        with response:
            snippet = scrub(next(response.iter_content(READ_LIMIT), b"").decode("utf-8", "replace"), url)
        return classify(response.status_code, response.headers, snippet, latency_ms), snippet
    except requests.RequestException as error:
        latency_ms = (time.monotonic() - started) * 1000
        return Outcome(RETRY, None, latency_ms, truncate(scrub(f"{type(error).__name__}: {error}", url))), ""
