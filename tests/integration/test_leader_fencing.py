"""A leader whose lock connection dies while its process lives keeps nothing of its cycle: the
instance that takes over runs the cycle, and what the first one did is rolled back at its commit."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests import demo
from warning.cycle import run_cycle
from warning.leader import CYCLE_LOCK, LostLeadership, cluster_lock
from warning.models import Alert, CycleRun, Task
from warning.scheduler import run_due_cycle
from warning.sources import open_source

POSTGRES_ONLY = [pytest.param("postgres", marks=pytest.mark.postgres)]


class Paused:
    """A scenario source that stops inside its pull until let go: a cycle caught mid-way."""

    def __init__(self, source):
        self.source, self.started, self.go = source, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.source, name)

    def pull(self, regions):
        self.started.set()
        assert self.go.wait(60)
        return self.source.pull(regions)


def terminate_lock_holder(engine) -> int:
    with engine.connect() as connection:
        pid = connection.scalar(sa.text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :high AND objid = :low"),
            {"high": CYCLE_LOCK >> 32, "low": CYCLE_LOCK & 0xFFFFFFFF})
        assert connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return pid


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_a_leader_that_lost_its_lock_commits_nothing_and_the_other_instance_runs_the_cycle(make_runtime):
    first, second = make_runtime(), make_runtime()  # two instances, each with its own engine
    paused = Paused(open_source(first, "demo"))
    outcome = {}

    def lead():
        with cluster_lock(first.engine, CYCLE_LOCK) as held:
            assert held
            try:
                outcome["summary"] = run_cycle(first, paused, deliver=False, lead=held)
            except Exception as error:  # noqa: BLE001 (what it raised is the assertion)
                outcome["error"] = error

    leader = threading.Thread(target=lead)
    leader.start()
    assert paused.started.wait(30)
    assert run_due_cycle(second, open_source(second, "demo")) is None  # it waits: the lock is held

    terminate_lock_holder(second.engine)  # the first instance's lock connection dies; its process lives on
    taken_over = run_due_cycle(second, open_source(second, "demo"))
    assert taken_over is not None and taken_over["alerts_issued"] > 0
    paused.go.set()
    leader.join(60)

    assert isinstance(outcome.get("error"), LostLeadership), outcome
    with second.sessions() as session:
        cold_waves = session.scalar(select(func.count()).select_from(Alert).where(Alert.hazard == "cold_wave"))
        duplicated = session.execute(select(Task.alert_id, Task.subsidy_id, Task.type, Task.instance).group_by(
            Task.alert_id, Task.subsidy_id, Task.type, Task.instance).having(func.count() > 1)).all()
        runs = dict(session.execute(select(CycleRun.status, func.count()).group_by(CycleRun.status)).all())
        failed = session.scalars(select(CycleRun.error).where(CycleRun.status == "failed")).one()
    assert cold_waves == len(demo.designed_levels()) and duplicated == []
    assert runs == {"ok": 1, "failed": 1} and "LostLeadership" in failed


def test_run_once_marks_a_cycle_cut_off_by_its_process_abandoned(make_runtime, config_dir, tmp_path, database_url):
    import os
    import subprocess
    from datetime import timedelta
    from tests.conftest import settings_env
    from tests.e2e.test_cli import COLDWARN
    from warning.models import utcnow
    rt = make_runtime()
    with rt.sessions.begin() as session:  # what a process killed mid-cycle leaves behind
        session.add(CycleRun(id="cut-off", started_at=utcnow() - timedelta(minutes=5), as_of=utcnow(),
                             scenario="demo", status="running"))
    env = {**os.environ, **settings_env(config_dir, database_url, tmp_path)}
    result = subprocess.run([COLDWARN, "run-once", "--no-deliver"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "marked abandoned" in result.stderr
    with rt.sessions() as session:
        assert session.get(CycleRun, "cut-off").status == "abandoned"
