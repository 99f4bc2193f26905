"""Fetching feed payloads: timeouts, retries with backoff and jitter, Retry-After honoured.

Retried: timeouts, connection errors, 5xx, 429 and 408. Not retried: other 4xx, which a retry
cannot fix. Every answer is a payload or a FetchFailed that says what happened and how often.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

import requests

from notifiers import jsontext
from notifiers.deadline import deadline
from notifiers.http import retry_after_seconds
from warning.feeds import provider_words

RETRYABLE_STATUS = {408, 429}
QUOTED_BYTES = 4096  # of an error answer: enough for the provider's own words


class FetchFailed(Exception):
    def __init__(self, reason: str, attempts: int, elapsed_ms: float):
        super().__init__(reason)
        self.reason, self.attempts, self.elapsed_ms = reason, attempts, elapsed_ms


@dataclass(frozen=True)
class Fetched:
    payload: bytes
    attempts: int
    elapsed_ms: float


@dataclass
class Fetcher:
    session: requests.Session
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    max_wait_s: float = 120.0
    max_bytes: int = 200 * 1024 * 1024
    sleep: Callable[[float], None] = time.sleep

    def get(self, url: str, params: dict | None = None, headers: dict | None = None) -> Fetched:
        started = time.monotonic()
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            wait, reason, payload = self._attempt(url, params, headers)
            if payload is not None:
                return Fetched(payload, attempt, (time.monotonic() - started) * 1000)
            if wait is None or attempt == self.max_attempts:
                break
            self.sleep(wait if wait > 0 else self._backoff(attempt))
        raise FetchFailed(f"{reason} (after {attempt} attempt{'s' if attempt > 1 else ''})", attempt,
                          (time.monotonic() - started) * 1000)

    def _attempt(self, url, params, headers) -> tuple[float | None, str, bytes | None]:
        """(wait before retrying or None for no retry, reason, payload or None)."""
        total_s = self.connect_timeout_s + self.read_timeout_s
        try:
            with deadline(total_s) as limit, self.session.get(
                    url, params=params, headers=headers, stream=True,
                    timeout=(self.connect_timeout_s, self.read_timeout_s)) as response:
                code = response.status_code
                ok = 200 <= code < 300
                body, whole = read_at_most(response, self.max_bytes if ok else QUOTED_BYTES)
        except requests.RequestException as error:  # every one worth another try
            return 0, self._failure(error, limit.passed, total_s), None
        if ok:
            if not whole:
                return None, f"payload exceeds {self.max_bytes} bytes (refused while it streamed in)", None
            return None, "", body
        reason = f"HTTP {code}: {quoted(body)}"
        if code >= 500 or code in RETRYABLE_STATUS:
            after = retry_after_seconds(response.headers.get("Retry-After"))
            return (min(after, self.max_wait_s) if after is not None else 0), reason, None
        return None, reason, None

    def _failure(self, error: requests.RequestException, deadline_passed: bool, total_s: float) -> str:
        if deadline_passed:
            return f"no complete answer within the {total_s:g} s deadline"
        if isinstance(error, requests.Timeout):
            return f"timed out after {self.read_timeout_s:g} s"
        if isinstance(error, requests.ConnectionError):
            return f"connection failed: {type(error).__name__}"
        return f"answer unreadable: {type(error).__name__}"  # a body cut or garbled on the way

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to backoff x 2^(attempt-1), so retries of many feeds spread."""
        return random.uniform(0, min(self.max_wait_s, self.backoff_s * 2 ** (attempt - 1)))


def read_at_most(response: requests.Response, limit: int) -> tuple[bytes, bool]:
    """(at most `limit` bytes of the body, whether that is all of it), never holding more than a chunk
    beyond the limit: a declared Content-Length over it is refused before a byte is read."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return b"", False
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], False
    return b"".join(chunks), True


def quoted(body: bytes) -> str:
    """What an error answer says: the provider's own words where it answers in JSON, else its start."""
    try:
        words = provider_words(jsontext.loads(body))
    except (ValueError, RecursionError):
        words = None
    return words or body[:200].decode("utf-8", "replace")
