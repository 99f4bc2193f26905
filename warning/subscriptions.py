"""Subscriptions: who receives which events. Those in config/subscriptions.yaml are synced by name."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifiers.targets import UnsafeTarget, check_url, redact
from triggers.validation import InvalidConfig, describe
from warning.accounts import audit, can_change, can_see
from warning.config import ADMIN_EVENTS, SubscriptionConfig
from warning.events import iso
from warning.models import OutboxMessage, Subscription, utcnow

REMOVED_FROM_CONFIG = "removed from subscriptions.yaml"


def sync_config_subscriptions(session: Session, configured: list[SubscriptionConfig]) -> None:
    existing = {s.name: s for s in session.scalars(select(Subscription).where(Subscription.source == "config"))}
    for config in configured:
        row = existing.pop(config.name, None)
        if row is None:
            row = Subscription(name=config.name, source="config", enabled=True, created_at=utcnow())
            session.add(row)
        elif row.disabled_reason == REMOVED_FROM_CONFIG or row.url != config.url:
            row.enabled, row.disabled_reason = True, None  # back in the file, or a new endpoint
        apply(row, config)
    for row in existing.values():
        if row.enabled:
            row.enabled, row.disabled_reason = False, REMOVED_FROM_CONFIG


def validated(fields: dict) -> SubscriptionConfig:
    try:
        return SubscriptionConfig.model_validate(fields)
    except ValidationError as error:
        raise InvalidConfig(describe(error, "subscription")) from None


def add_subscription(session: Session, fields: dict, source: str, allow_private: bool, actor: str) -> Subscription:
    """Validate like a config entry (plus the URL's target) and store it; secrets are never echoed."""
    config = validated(fields)
    problems = []
    try:
        if config.channel != "email":
            check_url(config.url, allow_private)
    except UnsafeTarget as error:
        problems.append(f"url: {error}")
    if session.scalar(select(Subscription.id).where(Subscription.name == config.name)):
        problems.append(f"name: {config.name} exists already")
    if problems:
        raise InvalidConfig(problems)
    row = Subscription(name=config.name, source=source, enabled=True, created_at=utcnow())
    apply(row, config)
    session.add(row)
    audit(session, actor, "subscription.add", f"subscription/{config.name}", None, describe_subscription(row))
    return row


def apply(row: Subscription, config: SubscriptionConfig) -> None:
    row.url, row.secrets, row.regions = config.url, config.secrets, config.regions
    row.events, row.format, row.channel = config.events, config.format, config.channel
    row.lang, row.options = config.lang, config.options


def describe_subscription(row: Subscription) -> dict:
    """What may be shown of a subscription: never its secrets, nor the keys in a robot's URL."""
    return {"name": row.name, "channel": row.channel, "url": redact(row.url), "regions": row.regions,
            "events": row.events, "format": row.format, "lang": row.lang, "recipients": len(row.options.get("to", [])),
            "batch": row.options.get("batch"),
            "source": row.source, "enabled": row.enabled, "disabled_reason": row.disabled_reason,
            "health": health(row), "previous_secret_until": row.options.get(PREVIOUS_SECRET_UNTIL),
            "failing_since": iso(row.failing_since), "created_at": iso(row.created_at)}


def remove_subscription(session: Session, name: str, actor: str) -> int:
    """Disable it (its history stays) and park what it still had to send, for replay elsewhere."""
    row = session.scalars(select(Subscription).where(Subscription.name == name)).first()
    if row is None:
        raise InvalidConfig([f"name: no subscription {name}"])
    if row.source == "config":
        raise InvalidConfig([f"name: {name} comes from subscriptions.yaml; remove it there"])
    row.enabled, row.disabled_reason = False, f"removed by {actor}"
    pending = session.execute(update(OutboxMessage).where(OutboxMessage.subscription_id == row.id,
                                                          OutboxMessage.status == "pending")
                              .values(status="parked", last_error="subscription removed"))
    audit(session, actor, "subscription.remove", f"subscription/{name}", None, None)
    return pending.rowcount


SECRET_BYTES = 32
PREVIOUS_SECRET_UNTIL = "previous_secret_until"


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def rotate_secret(session: Session, row: Subscription, actor: str, grace: timedelta) -> str:
    """A new signing secret in force at once; the previous one still signs beside it until `grace` has
    passed, so a receiver can switch without refusing a message. Returns the new secret (shown once)."""
    if row.source == "config":
        raise InvalidConfig([f"name: {row.name} comes from subscriptions.yaml; change its secret there"])
    if row.channel != "webhook":
        raise InvalidConfig([f"name: {row.name} is a {row.channel} subscription; only webhooks sign with whsec_ secrets"])
    secret, until = new_secret(), utcnow() + grace
    row.secrets = [secret, row.secrets[0]]
    row.options = {**row.options, PREVIOUS_SECRET_UNTIL: iso(until)}
    audit(session, actor, "subscription.rotate", f"subscription/{row.name}", None,
          {"previous_secret_until": iso(until)})
    return secret


def signing_secrets(row: Subscription, now: datetime) -> list[str]:
    """The secrets a message is signed with now: after a rotation, the previous one only until its grace ends."""
    until = row.options.get(PREVIOUS_SECRET_UNTIL)
    if until and now >= datetime.fromisoformat(until):
        return row.secrets[:1]
    return row.secrets


def health(row: Subscription) -> str:
    """delivering, failing (since failing_since) or disabled (disabled_reason says why)."""
    if not row.enabled:
        return "disabled"
    return "failing" if row.failing_since else "delivering"


def replay_parked(session: Session, actor: str, message_id: str | None = None, subscription: str | None = None,
                  since: datetime | None = None) -> int:
    """Send parked messages again from now on, with their original webhook-id and a fresh retry schedule."""
    query = select(OutboxMessage).where(OutboxMessage.status == "parked")
    if message_id:
        query = query.where(OutboxMessage.message_id == message_id)
    if subscription:
        row = session.scalars(select(Subscription).where(Subscription.name == subscription)).first()
        if row is None:
            raise InvalidConfig([f"subscription: no subscription {subscription}"])
        if not row.enabled:
            raise InvalidConfig([f"subscription: {subscription} is disabled ({row.disabled_reason}); enable it first"])
        query = query.where(OutboxMessage.subscription_id == row.id)
    if since:
        query = query.where(OutboxMessage.created_at >= since)
    if not (message_id or subscription):
        raise InvalidConfig(["name a message, or a subscription (optionally with a start time)"])
    messages = session.scalars(query).all()
    now = utcnow()
    for message in messages:
        message.status, message.attempts, message.next_attempt_at = "pending", 0, now
    audit(session, actor, "outbox.replay", message_id or f"subscription/{subscription}", None,
          {"messages": len(messages), "since": since.isoformat() if since else None})
    return len(messages)


def may_view(user, subscription_regions: list[str]) -> bool:
    """Admins and viewers see every subscription; others those confined to their own area."""
    if user.role in ("admin", "viewer"):
        return True
    return bool(subscription_regions) and all(can_see(user, code) for code in subscription_regions)


def may_manage(user, subscription_regions: list[str], events: list[str]) -> bool:
    """Province and county users manage subscriptions inside their area; admin events are for admins."""
    if user.role == "admin":
        return True
    return (user.role != "viewer" and not set(events) & set(ADMIN_EVENTS)
            and bool(subscription_regions) and all(can_change(user, code) for code in subscription_regions))


def parked_counts(session: Session) -> dict[int, int]:
    return dict(session.execute(select(OutboxMessage.subscription_id, func.count())
                                .where(OutboxMessage.status == "parked").group_by(OutboxMessage.subscription_id)).all())
