"""The life of a task: open -> acknowledged -> in progress -> done, or not needed (with a note)."""

from __future__ import annotations

from datetime import datetime

STATES = ("open", "acknowledged", "in_progress", "done", "not_needed")
ACTIVE = ("open", "acknowledged", "in_progress")
NEXT = {
    "open": ("acknowledged", "not_needed"),
    "acknowledged": ("in_progress", "done", "not_needed"),  # a quick task may be done straight away
    "in_progress": ("done", "not_needed"),
    "done": (),
    "not_needed": (),
}
STATUS_NAMES = {
    "zh": {"open": "待接收", "acknowledged": "已接收", "in_progress": "进行中", "done": "已完成", "not_needed": "无需执行"},
    "en": {"open": "open", "acknowledged": "acknowledged", "in_progress": "in progress", "done": "done",
           "not_needed": "not needed"},
}


class IllegalTransition(ValueError):
    pass


def check_transition(current: str, new: str, note: str | None) -> None:
    """Refuse, with a reason a county officer understands, any move the lifecycle does not allow."""
    if new not in STATES:
        raise IllegalTransition(f"unknown status {new!r}; one of {', '.join(STATES)}")
    if new not in NEXT[current]:
        allowed = ", ".join(NEXT[current]) or "none: the task is closed"
        raise IllegalTransition(f"a task that is {current} cannot become {new} (allowed: {allowed})")
    if new == "not_needed" and not (note or "").strip():
        raise IllegalTransition("say why the task is not needed (a note is required)")


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    return status in ACTIVE and due_at < now
