"""Subscriptions: who receives which events. Those in config/subscriptions.yaml are synced by name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from warning.config import SubscriptionConfig
from warning.models import Subscription, utcnow

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
        row.url, row.secrets, row.regions = config.url, config.secrets, config.regions
        row.events, row.format = config.events, config.format
    for row in existing.values():
        if row.enabled:
            row.enabled, row.disabled_reason = False, REMOVED_FROM_CONFIG
