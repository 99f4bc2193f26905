"""Group chat robots: WeCom (企业微信) and DingTalk (钉钉), each posting the markdown digest.

Both answer HTTP 200 even when they refuse a message; the verdict is the `errcode` in the body,
so it is read before a send counts as delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus

from notifiers.base import GONE, PERMANENT, RETRY, Message, Outcome, truncate
from notifiers.digest import digest
from notifiers.http import HttpSession, post

WECOM_MAX_BYTES = 4096  # WeCom refuses longer markdown content
CUT_MARK = {"zh": "\n\n…（内容过长，已截断，完整任务单请登录查看）", "en": "\n\n… (cut: see the full task list online)"}
# errcodes worth retrying: rate limits (20 messages a minute per robot) and "system busy"
WECOM_RETRY, WECOM_GONE = {-1, 45009}, {93000}
DINGTALK_RETRY, DINGTALK_GONE = {-1, 130101}, {300001, 400013}
RATE_LIMIT_WAIT_S = 60.0


def fit(text: str, max_bytes: int, lang: str) -> str:
    """Cut `text` to `max_bytes` of UTF-8 at a character boundary, saying that it was cut."""
    if len(text.encode()) <= max_bytes:
        return text
    mark = CUT_MARK[lang]
    room = max_bytes - len(mark.encode())
    return text.encode()[:room].decode("utf-8", "ignore") + mark


def judge(outcome: Outcome, answer: str, retry: set[int], gone: set[int]) -> Outcome:
    """A 2xx is delivered only when the robot's errcode is 0."""
    if not outcome.delivered:
        return outcome
    try:
        code = int(json.loads(answer).get("errcode", 0))
    except (ValueError, AttributeError, TypeError):
        return Outcome(PERMANENT, outcome.http_status, outcome.latency_ms, truncate(f"not a robot answer: {answer}"))
    if code == 0:
        return outcome
    error = truncate(f"errcode {code}: {answer}")
    if code in retry:
        return Outcome(RETRY, outcome.http_status, outcome.latency_ms, error, RATE_LIMIT_WAIT_S)
    status = GONE if code in gone else PERMANENT
    return Outcome(status, outcome.http_status, outcome.latency_ms, error)


class WeComRobot:
    def __init__(self, url: str, session: HttpSession, timeout_s: float = 10.0,
                 allow_private: bool = False, lang: str = "zh"):
        self.url, self.session, self.timeout_s, self.allow_private, self.lang = url, session, timeout_s, allow_private, lang

    def notify(self, message: Message) -> Outcome:
        content = fit(digest(message.type, message.data, self.lang).markdown(), WECOM_MAX_BYTES, self.lang)
        body = json.dumps({"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False).encode()
        outcome, answer = post(self.session, self.url, body, {"content-type": "application/json; charset=utf-8"},
                               self.timeout_s, self.allow_private)
        return judge(outcome, answer, WECOM_RETRY, WECOM_GONE)


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signed mode: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest_bytes = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest_bytes).decode())


class DingTalkRobot:
    def __init__(self, url: str, secret: str, session: HttpSession, timeout_s: float = 10.0,
                 allow_private: bool = False, lang: str = "zh"):
        self.url, self.secret, self.session = url, secret, session
        self.timeout_s, self.allow_private, self.lang = timeout_s, allow_private, lang

    def notify(self, message: Message) -> Outcome:
        summary = digest(message.type, message.data, self.lang)
        body = json.dumps({"msgtype": "markdown", "markdown": {"title": summary.title, "text": summary.markdown()}},
                          ensure_ascii=False).encode()
        timestamp_ms = int(time.time() * 1000)  # DingTalk refuses signatures older than an hour
        separator = "&" if "?" in self.url else "?"
        url = f"{self.url}{separator}timestamp={timestamp_ms}&sign={dingtalk_signature(self.secret, timestamp_ms)}"
        outcome, answer = post(self.session, url, body, {"content-type": "application/json; charset=utf-8"},
                               self.timeout_s, self.allow_private)
        return judge(outcome, answer, DINGTALK_RETRY, DINGTALK_GONE)
