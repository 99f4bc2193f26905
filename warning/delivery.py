"""Draining the outbox: claim due messages under a lease, send, record every attempt.

A claim is a lease (claimed_until), not a lock held during the send: if a worker dies mid-send,
its messages become due again when the lease runs out and are sent again with the same
webhook-id, so receivers can drop the duplicate. Nothing is ever deleted: a message is
delivered, waiting for its next attempt, or parked for replay.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import requests
from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from notifiers.base import DELIVERED, GONE, Message, Notifier, Outcome, next_delay_s
from notifiers.cap import cap_body
from notifiers.mail import EmailNotifier, SmtpServer, recipients_of
from notifiers.robots import DingTalkRobot, WeComRobot
from notifiers.sms import SmsGateway
from notifiers.targets import redact
from notifiers.webhook import WebhookNotifier
from warning.events import SCHEMA_VERSION, Outbox
from warning.models import DeliveryAttempt, OutboxMessage, Subscription, utcnow
from warning.settings import DeliverySettings


def claim(sessions: sessionmaker, now: datetime, settings: DeliverySettings) -> list[tuple[int, int]]:
    """Lease a batch of due messages to this worker: (outbox id, subscription id) pairs."""
    with sessions.begin() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                 .limit(settings.batch_size)
                 .with_for_update(skip_locked=True))
        rows = list(session.scalars(query))
        for row in rows:
            row.claimed_until = now + timedelta(seconds=settings.lease_s)
        return [(row.id, row.subscription_id) for row in rows]


def notifier_for(subscription: Subscription, http: requests.Session, settings: DeliverySettings,
                 references: list[tuple[str, datetime]] | None = None) -> Notifier:
    """The channel that sends to this subscriber, configured from its row and the delivery settings."""
    common = {"timeout_s": settings.timeout_s, "lang": subscription.lang}
    web = common | {"allow_private": settings.allow_private_targets}
    channel, url = subscription.channel, subscription.url
    if channel == "wecom":
        return WeComRobot(url, http, **web)
    if channel == "dingtalk":
        return DingTalkRobot(url, subscription.secrets[0], http, **web)
    if channel == "email":
        return EmailNotifier(SmtpServer(**settings.smtp.model_dump()), recipients_of(url), **common)
    if channel == "sms":
        options = subscription.options
        return SmsGateway(url, options["to"], http, options.get("body"), options.get("headers"),
                          (subscription.secrets or [""])[0], **web)
    kwargs = {}
    if subscription.format == "cap":
        kwargs = {"render": lambda message: cap_body(message, settings.cap_sender, references or [], subscription.lang),
                  "content_type": "application/cap+xml; charset=utf-8"}
    return WebhookNotifier(url, subscription.secrets, http, timeout_s=settings.timeout_s,
                           allow_private=settings.allow_private_targets, **kwargs)


def earlier_messages(session, row: OutboxMessage) -> list[tuple[str, datetime]]:
    """The CAP messages this subscriber got before for the same alert: what an Update or Cancel references."""
    earlier = session.execute(select(OutboxMessage.message_id, OutboxMessage.event_time).where(
        OutboxMessage.subscription_id == row.subscription_id, OutboxMessage.alert_id == row.alert_id,
        OutboxMessage.id < row.id, OutboxMessage.event_type.like("alert.%")).order_by(OutboxMessage.id))
    return [(message_id, sent) for message_id, sent in earlier]


def send_one(sessions: sessionmaker, outbox_id: int, http: requests.Session,
             settings: DeliverySettings) -> str:
    """Send one claimed message and record the result; returns delivered, failed or parked."""
    with sessions() as session:
        row, subscription = session.execute(select(OutboxMessage, Subscription).join(
            Subscription, Subscription.id == OutboxMessage.subscription_id).where(OutboxMessage.id == outbox_id)).one()
        message = Message(id=row.message_id, type=row.event_type, timestamp=row.event_time, data=row.data)
        references = earlier_messages(session, row) if subscription.format == "cap" else None
    if subscription.enabled:
        outcome = notifier_for(subscription, http, settings, references).notify(message)
    else:
        outcome = Outcome("permanent", error=f"subscription disabled: {subscription.disabled_reason}")
    return record(sessions, outbox_id, outcome, settings, was_failing=subscription.failing_since is not None)


def record(sessions: sessionmaker, outbox_id: int, outcome: Outcome, settings: DeliverySettings,
           was_failing: bool) -> str:
    now = utcnow()
    with sessions.begin() as session:
        row = session.get(OutboxMessage, outbox_id)
        row.attempts += 1
        row.claimed_until = None
        session.add(DeliveryAttempt(outbox_id=row.id, attempted_at=now, outcome=outcome.status,
                                    http_status=outcome.http_status, latency_ms=outcome.latency_ms,
                                    error=outcome.error or None))
        if outcome.status == DELIVERED:
            row.status, row.delivered_at, row.last_error = "delivered", now, None
            if was_failing:  # (read just before the send: a healthy subscriber costs no extra query)
                locked_subscription(session, row).failing_since = None
            return "delivered"
        row.last_error = outcome.error
        subscription = locked_subscription(session, row)
        subscription.failing_since = subscription.failing_since or now
        if outcome.status == GONE:
            disable(session, subscription, f"endpoint gone at {now.isoformat()}: {outcome.error}", now)
        elif now - subscription.failing_since >= timedelta(hours=settings.disable_after_h):
            disable(session, subscription, f"failing since {subscription.failing_since.isoformat()}", now)
        delay = next_delay_s(row.attempts, settings.retry_schedule_s, outcome.retry_after_s) \
            if outcome.status == "retry" else None
        if delay is None:
            row.status = "parked"
            return "parked"
        row.next_attempt_at = now + timedelta(seconds=delay)
        return "failed"


def locked_subscription(session, row: OutboxMessage) -> Subscription:
    """The row's subscriber, locked FOR NO KEY UPDATE on PostgreSQL: concurrent sends to one endpoint
    must not both disable it and tell the admins twice (the lock does not block outbox inserts)."""
    return session.get(Subscription, row.subscription_id, with_for_update={"key_share": True},
                       populate_existing=True)


def disable(session, subscription: Subscription, reason: str, now: datetime) -> None:
    """Stop sending to a subscriber (what it still had is parked as it comes up) and tell the admins once."""
    if not subscription.enabled:
        return
    subscription.enabled, subscription.disabled_reason = False, reason
    Outbox(session, None, now, 0).add("subscription.disabled", "", {
        "schema_version": SCHEMA_VERSION, "subscription": subscription.name, "url": redact(subscription.url), "reason": reason})


def drain(sessions: sessionmaker, http: requests.Session, settings: DeliverySettings,
          now: datetime | None = None) -> Counter:
    """Send everything due now (not what is scheduled later); counts delivered, failed, parked.

    Up to `workers` sends run at once, at most `per_endpoint` of them to one subscriber, so one slow
    receiver cannot hold up the others nor be flooded.
    """
    counts: Counter = Counter(delivered=0, failed=0, parked=0)
    cutoff = now or utcnow()
    gates: dict[int, threading.Semaphore] = {}
    with ThreadPoolExecutor(settings.workers) as pool:
        while True:
            claimed = claim(sessions, cutoff, settings)
            if not claimed:
                return counts
            futures = [pool.submit(gated, gates.setdefault(subscription_id, threading.Semaphore(settings.per_endpoint)),
                                   sessions, outbox_id, http, settings)
                       for outbox_id, subscription_id in claimed]
            for future in futures:
                counts[future.result()] += 1


def gated(gate: threading.Semaphore, *args) -> str:
    with gate:
        return send_one(*args)
