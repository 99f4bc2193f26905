"""The county task loop: status changes, overdue reminders, progress by province and prefecture."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triggers.tasks import ACTIVE, IllegalTransition, check_transition
from triggers.validation import InvalidConfig
from warning.accounts import audit
from warning.config import AppConfig
from warning.events import SCHEMA_VERSION, Outbox, region_info, task_data
from warning.models import Task


def set_status(session: Session, config: AppConfig, outbox: Outbox, task_id: int, status: str, note: str | None,
               actor: str) -> Task:
    """Move a task on (or refuse with the reason), record who did it, and tell subscribers."""
    task = session.get(Task, task_id)
    if task is None:
        raise InvalidConfig([f"task {task_id}: no such task"])
    try:
        check_transition(task.status, status, note)
    except IllegalTransition as error:
        raise InvalidConfig([f"status: {error}"]) from None
    before = {"status": task.status}
    task.status, task.updated_at, task.updated_by = status, outbox.now, actor
    if note and note.strip():
        task.note = note.strip()
    if status == "done":
        task.completed_at = outbox.now
    audit(session, actor, "task.status", f"task/{task.id}", before, {"status": status}, reason=task.note)
    outbox.add("task.updated", task.region_code, task_event(task, config.regions_by_code[task.region_code], actor))
    return task


def task_event(task: Task, region: dict, actor: str | None = None, overdue: bool = False) -> dict:
    return {"schema_version": SCHEMA_VERSION, "region": region_info(region), "alert_id": task.alert_id,
            "subsidy_id": task.subsidy_id, "task": task_data(task) | {"instance": task.instance, "note": task.note},
            "changed_by": actor, "overdue": overdue}


def remind_overdue(session: Session, config: AppConfig, outbox: Outbox, now: datetime) -> int:
    """One `task.overdue` message per task that passed its due time unfinished (not one per run).
    Each task is claimed by an UPDATE that sets its reminder only if none is set: of two overlapping
    cycles, the second waits on the first's row locks, then finds the reminders taken."""
    overdue = {task.id: task for task in session.scalars(select(Task).where(
        Task.status.in_(ACTIVE), Task.due_at < now, Task.reminded_at.is_(None)))}
    if not overdue:
        return 0
    claimed = session.scalars(update(Task).where(Task.id.in_(list(overdue)), Task.reminded_at.is_(None))
                              .values(reminded_at=now).returning(Task.id)
                              .execution_options(synchronize_session=False)).all()
    for task_id in sorted(claimed):
        task = overdue[task_id]
        outbox.add("task.overdue", task.region_code,
                   task_event(task, config.regions_by_code[task.region_code], overdue=True))
    return len(claimed)


def progress(session: Session, config: AppConfig, by: str, now: datetime, within: str | None = None) -> list[dict]:
    """Task counts per province, prefecture or county (`by`), optionally within one province: status, overdue, share done."""
    if by not in ("province", "prefecture", "county"):
        raise InvalidConfig(["by: province, prefecture or county"])
    rows = session.execute(select(Task.region_code, Task.status, Task.due_at)).all()
    if not rows:
        return []
    tasks = pd.DataFrame(rows, columns=["code", "status", "due_at"])
    regions = config.regions.set_index("code", drop=False)
    prefix = "" if by == "county" else f"{by}_"
    tasks["area"] = tasks["code"].map(regions[f"{prefix}code"])
    tasks["area_name"] = tasks["code"].map(regions[f"{prefix}name"])
    if within:
        tasks = tasks[tasks["code"].str.startswith(within[:2])]
    tasks["overdue"] = tasks["status"].isin(ACTIVE) & (pd.to_datetime(tasks["due_at"], utc=True) < pd.Timestamp(now))
    out = []
    for (area, name), group in tasks.groupby(["area", "area_name"]):
        counts = group["status"].value_counts().to_dict()
        needed = len(group) - counts.get("not_needed", 0)
        out.append({"code": area, "name": name, "tasks": len(group), "overdue": int(group["overdue"].sum()),
                    **{s: int(counts.get(s, 0)) for s in ("open", "acknowledged", "in_progress", "done", "not_needed")},
                    "done_share": round(counts.get("done", 0) / needed, 3) if needed else None})
    return out
