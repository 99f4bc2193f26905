"""Signatures a receiver can check with an off-the-shelf Standard Webhooks library."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifiers.base import Message, next_delay_s
from notifiers.webhook import body_of, decode_secret, sign
from tests.conftest import TEST_SECRET

MESSAGE = Message(id="msg_1", type="alert.issued", timestamp=datetime(2026, 1, 19, tzinfo=timezone.utc),
                  data={"region": {"name": "南关区"}, "level": "orange"})
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()


def headers(secrets, timestamp):
    body = body_of(MESSAGE)
    return body, {"webhook-id": MESSAGE.id, "webhook-timestamp": str(timestamp),
                  "webhook-signature": sign(secrets, MESSAGE.id, timestamp, body)}


def test_standard_webhooks_library_verifies_our_signature():
    now = int(datetime.now(timezone.utc).timestamp())
    body, sent = headers([TEST_SECRET], now)
    payload = Webhook(TEST_SECRET).verify(body, sent)
    assert payload["type"] == "alert.issued"
    assert payload["data"]["region"]["name"] == "南关区"
    assert payload["timestamp"] == "2026-01-19T00:00:00Z"


def test_during_rotation_either_secret_verifies():
    now = int(datetime.now(timezone.utc).timestamp())
    body, sent = headers([TEST_SECRET, OTHER_SECRET], now)
    Webhook(TEST_SECRET).verify(body, sent)
    Webhook(OTHER_SECRET).verify(body, sent)


def test_a_tampered_body_fails_verification():
    now = int(datetime.now(timezone.utc).timestamp())
    body, sent = headers([TEST_SECRET], now)
    tampered = json.loads(body)
    tampered["data"]["level"] = "blue"
    with pytest.raises(WebhookVerificationError):
        Webhook(TEST_SECRET).verify(json.dumps(tampered), sent)


@pytest.mark.parametrize("secret, reason", [
    ("abc", "start with 'whsec_'"), ("whsec_!!!", "not valid base64"),
    ("whsec_" + base64.b64encode(b"short").decode(), "24-64 bytes")])
def test_bad_secrets_are_refused(secret, reason):
    with pytest.raises(ValueError, match=reason):
        decode_secret(secret)


def test_retry_schedule_then_park():
    schedule = [0, 5, 300]
    assert next_delay_s(1, schedule, jitter=0) == 5
    assert next_delay_s(2, schedule, jitter=0) == 300
    assert next_delay_s(3, schedule, jitter=0) is None
    assert next_delay_s(1, schedule, retry_after_s=60, jitter=0) == 60
    assert 270 <= next_delay_s(2, schedule, jitter=0.1) <= 330
