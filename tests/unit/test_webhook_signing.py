"""Signatures a receiver can check with an off-the-shelf Standard Webhooks library."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifiers.base import Message, next_delay_s
from notifiers.webhook import batch_of, body_of, decode_secret, sign
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


def test_a_batch_carries_its_events_in_order_each_with_its_id_under_one_verifiable_signature():
    later = Message(id="msg_2", type="tasklist.issued", timestamp=datetime(2026, 1, 19, 1, tzinfo=timezone.utc),
                    data={"tasks": []})
    batch = batch_of([MESSAGE, later])
    now = int(datetime.now(timezone.utc).timestamp())
    body = body_of(batch)
    payload = Webhook(TEST_SECRET).verify(body, {"webhook-id": batch.id, "webhook-timestamp": str(now),
                                                 "webhook-signature": sign([TEST_SECRET], batch.id, now, body)})
    assert payload["type"] == "batch" and payload["timestamp"] == "2026-01-19T01:00:00Z"
    assert payload["data"]["events"] == [{"id": "msg_1"} | json.loads(body_of(MESSAGE)),
                                         {"id": "msg_2"} | json.loads(body_of(later))]


def test_a_batch_id_is_the_same_for_the_same_events_and_differs_for_any_other():
    later = Message(id="msg_2", type="alert.issued", timestamp=MESSAGE.timestamp)
    assert batch_of([MESSAGE, later]).id == batch_of([MESSAGE, later]).id
    assert len({batch_of(messages).id for messages in ([MESSAGE, later], [later, MESSAGE], [MESSAGE], [later])}) == 4
