"""Webhooks signed per the Standard Webhooks specification.

Headers webhook-id, webhook-timestamp, webhook-signature; the signature is
base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")) with key = base64-decoded `whsec_` secret,
one `v1,<sig>` per active secret (space separated) so receivers can rotate keys.
Body: {"type", "timestamp", "data"}; for a subscriber that takes batches, one body of type "batch"
whose data lists several such envelopes, each with its own id.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
from datetime import datetime, timezone

from notifiers.base import Message, Outcome
from notifiers import jsontext
from notifiers.http import HttpSession, post
from notifiers.schemas import SCHEMA_VERSION

SECRET_PREFIX = "whsec_"


@functools.lru_cache(maxsize=256)
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


BATCH_TYPE = "batch"


def envelope(message: Message) -> dict:
    return {"type": message.type, "timestamp": utc_text(message.timestamp), "data": message.data}


@functools.lru_cache(maxsize=64)
def utc_text(timestamp: datetime) -> str:
    """(A cycle's events share its time: written once, not for each of its thousands of messages.)"""
    return timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def body_of(message: Message) -> bytes:
    return jsontext.dumps(envelope(message), sort_keys=True)


def batch_of(messages: list[Message]) -> Message:
    """Several events as one message, in their order. Its id is derived from theirs, so sending the same
    events again carries the same webhook-id; each event keeps its own id, by which receivers drop the
    duplicates a batch made of other events (after retries) would bring."""
    digest = hashlib.sha256(" ".join(message.id for message in messages).encode()).hexdigest()[:32]
    events = [{"id": message.id} | envelope(message) for message in messages]
    return Message(id=f"batch_{digest}", type=BATCH_TYPE, timestamp=max(message.timestamp for message in messages),
                   data={"schema_version": SCHEMA_VERSION, "events": events})


def sign(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(decode_secret(s), signed, "sha256")).decode()
        for s in secrets)


class WebhookNotifier:
    """POSTs a signed body: the JSON envelope by default, or another rendering (CAP XML) signed alike."""

    def __init__(self, url: str, secrets: list[str], session: HttpSession,
                 timeout_s: float = 10.0, allow_private: bool = False,
                 render=body_of, content_type: str = "application/json; charset=utf-8"):
        self.url, self.secrets, self.session = url, secrets, session
        self.timeout_s, self.allow_private = timeout_s, allow_private
        self.render, self.content_type = render, content_type

    def notify(self, message: Message) -> Outcome:
        return post(self.session, self.url, *self.signed(message), self.timeout_s, self.allow_private)[0]

    def signed(self, message: Message) -> tuple[bytes, dict]:
        """The body and headers of the POST that carries `message`, signed now."""
        body = self.render(message)
        timestamp = int(time.time())
        return body, {"content-type": self.content_type, "webhook-id": message.id,
                      "webhook-timestamp": str(timestamp),
                      "webhook-signature": sign(self.secrets, message.id, timestamp, body),
                      "user-agent": "coldwarn-webhook/1"}
