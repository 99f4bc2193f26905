"""The message every channel sends and the outcome every channel reports."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

DELIVERED, RETRY, PERMANENT, GONE = "delivered", "retry", "permanent", "gone"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Message:
    id: str  # the same on every attempt, so receivers can drop duplicates
    type: str
    timestamp: datetime
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: Literal["delivered", "retry", "permanent", "gone"]
    http_status: int | None = None
    latency_ms: float = 0.0
    error: str = ""
    retry_after_s: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status == DELIVERED


class Notifier(Protocol):
    def notify(self, message: Message) -> Outcome: ...


def truncate(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "…"


def next_delay_s(attempts_made: int, schedule: list[float], retry_after_s: float | None = None,
                 jitter: float = 0.1, rng: random.Random | None = None) -> float | None:
    """Seconds until the next attempt, or None when the schedule is spent (park the message).

    `schedule[i]` is the wait before attempt i+1, so attempt 1 is schedule[0] after enqueueing.
    Jitter spreads retries of many messages; a receiver's Retry-After is a floor.
    """
    if attempts_made >= len(schedule):
        return None
    base = schedule[attempts_made]
    spread = base * jitter * (rng or random).uniform(-1, 1)
    return max(base + spread, retry_after_s or 0.0)
