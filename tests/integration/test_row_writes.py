"""Rows written in bulk (a cycle's tasks and outbox) come back exactly as given, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from warning.db import insert_rows
from warning.models import Task

BEIJING = timezone(timedelta(hours=8))


def task_row(region_code: str, note: str | None) -> dict:
    at = datetime(2026, 1, 18, 8, 30, tzinfo=BEIJING)
    return {"region_code": region_code, "alert_id": None, "subsidy_id": None, "type": "visit_vulnerable",
            "rule": "cold_wave", "status": "open", "due_at": at, "created_at": at, "updated_at": at, "note": note,
            "quantities": {"households": 12, "share": 0.5, "nested": {"list": [1, None, "两"]}},
            "role": {"zh": "民政助理员", "en": "civil-affairs assistant"},
            "title": {"zh": "走访\t重病\n重残\\人员", "en": 'Visit "the seriously ill"'},
            "instructions": {"zh": "", "en": ""}}


def test_awkward_values_survive_the_bulk_write(make_runtime):
    rt = make_runtime()
    rows = [task_row("220102", "tab\there, newline\nthere, backslash \\N and NULL"),
            task_row("220202", None), task_row("110101", "\\.")]
    with rt.sessions.begin() as session:
        ids = insert_rows(session, Task.__table__, rows)
    assert len(set(ids)) == 3
    with rt.sessions() as session:
        stored = {t.id: t for t in session.scalars(select(Task))}
    for new_id, row in zip(ids, rows):
        task = stored[new_id]
        assert task.region_code == row["region_code"] and task.note == row["note"]
        assert task.due_at == datetime(2026, 1, 18, 0, 30, tzinfo=timezone.utc)  # 08:30 in Beijing, kept as UTC
        assert (task.quantities, task.role, task.title) == (row["quantities"], row["role"], row["title"])
        assert task.instance == 1  # left out: the column's default


def test_a_bulk_write_rolled_back_leaves_nothing(make_runtime):
    rt = make_runtime()
    with pytest.raises(RuntimeError), rt.sessions.begin() as session:
        insert_rows(session, Task.__table__, [task_row("220102", None)])
        raise RuntimeError("the cycle failed after writing its tasks")
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0


def test_a_time_without_a_zone_is_refused_not_guessed(make_runtime):
    rt = make_runtime()
    row = task_row("220102", None) | {"due_at": datetime(2026, 1, 18, 8, 30)}
    with pytest.raises(Exception, match="naive datetime"), rt.sessions.begin() as session:
        insert_rows(session, Task.__table__, [row])
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
