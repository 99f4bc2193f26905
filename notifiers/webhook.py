"""Webhooks signed per the Standard Webhooks specification.

Headers webhook-id, webhook-timestamp, webhook-signature; the signature is
base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")) with key = base64-decoded `whsec_` secret,
one `v1,<sig>` per active secret (space separated) so receivers can rotate keys.
Body: {"type", "timestamp", "data"}.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import requests

from notifiers.base import DELIVERED, GONE, MAX_ERROR_CHARS, PERMANENT, RETRY, Message, Outcome, truncate
from notifiers.targets import UnsafeTarget, check_url

SECRET_PREFIX = "whsec_"
RETRYABLE_4XX = {408, 429}


def decode_secret(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except ValueError:
        raise ValueError("webhook secret is not valid base64 after 'whsec_'") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("webhook secret must decode to 24-64 bytes")
    return key


def body_of(message: Message) -> bytes:
    envelope = {"type": message.type,
                "timestamp": message.timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                "data": message.data}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(decode_secret(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets)


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


class WebhookNotifier:
    """POSTs a signed body: the JSON envelope by default, or another rendering (CAP XML) signed alike."""

    def __init__(self, url: str, secrets: list[str], session: requests.Session,
                 timeout_s: float = 10.0, allow_private: bool = False,
                 render=body_of, content_type: str = "application/json; charset=utf-8"):
        self.url, self.secrets, self.session = url, secrets, session
        self.timeout_s, self.allow_private = timeout_s, allow_private
        self.render, self.content_type = render, content_type

    def notify(self, message: Message) -> Outcome:
        try:
            check_url(self.url, self.allow_private)
        except UnsafeTarget as error:
            return Outcome(PERMANENT, error=str(error))
        body = self.render(message)
        timestamp = int(time.time())
        headers = {"content-type": self.content_type, "webhook-id": message.id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(self.secrets, message.id, timestamp, body),
                   "user-agent": "coldwarn-webhook/1"}
        started = time.monotonic()
        try:
            response = self.session.post(self.url, data=body, headers=headers,
                                         timeout=(min(5.0, self.timeout_s), self.timeout_s),
                                         allow_redirects=False, stream=True)
            latency_ms = (time.monotonic() - started) * 1000
            with response:  # read only the start of the body: a receiver may answer with anything
                snippet = next(response.iter_content(MAX_ERROR_CHARS), b"").decode("utf-8", "replace")
            return classify(response.status_code, response.headers, snippet, latency_ms)
        except requests.RequestException as error:
            latency_ms = (time.monotonic() - started) * 1000
            return Outcome(RETRY, None, latency_ms, truncate(f"{type(error).__name__}: {error}"))
