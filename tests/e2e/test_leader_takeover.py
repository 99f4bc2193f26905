"""Two `coldwarn worker` processes on PostgreSQL: the one running the cycle is killed mid-cycle, the other
takes over within a tick, no two cycles overlap, and no alert or message is lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from warning.db import make_engine, session_factory, upgrade
from warning.leader import CYCLE_LOCK, slot_start
from warning.models import Alert, CycleRun, OutboxMessage
from tests.conftest import settings_env, write_subscription
from tests.e2e.test_cli import COLDWARN

TICK_S = 1
TAKEOVER_BOUND_S = 30  # a tick, plus the cycle itself, with room for a busy 2-core machine


def lock_holder(connection) -> int | None:
    """The pid of the worker holding the cycle lock, from the application_name its connections carry."""
    name = connection.scalar(sa.text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low"),
        {"high": CYCLE_LOCK >> 32, "low": CYCLE_LOCK & 0xFFFFFFFF})
    return int(name.rsplit(":", 1)[1]) if name else None


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.postgres
def test_killing_the_leader_mid_cycle_hands_the_cycle_to_the_other_worker(postgres_schema_url, config_dir,
                                                                         tmp_path, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued", "tasklist.issued"])
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("tick_seconds = 15", f"tick_seconds = {TICK_S}")
                        .replace("deliver_seconds = 10", "deliver_seconds = 1"))
    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    sessions = session_factory(engine)
    env = {**os.environ, **settings_env(config_dir, postgres_schema_url, tmp_path)}
    workers = {}
    try:
        for number in range(2):
            output = open(tmp_path / f"worker-{number}.log", "w")
            process = subprocess.Popen([COLDWARN, "worker", "--scenario", "demo", "--as-recorded"], env=env,
                                       stdout=output, stderr=subprocess.STDOUT)
            workers[process.pid] = process
        with engine.connect() as connection:
            leader = wait_for(lambda: lock_holder(connection) if connection.scalar(
                select(func.count()).select_from(CycleRun).where(CycleRun.status == "running")) else None,
                60, "a worker to start a cycle")
            connection.commit()
        workers[leader].send_signal(signal.SIGKILL)  # mid-cycle, no goodbye
        workers[leader].wait()
        killed_at = time.monotonic()
        survivor = next(pid for pid in workers if pid != leader)

        def finished_cycle():
            with sessions() as session:
                return session.scalars(select(CycleRun).where(CycleRun.status == "ok")).first()
        def logs() -> str:
            return "\n".join(p.read_text()[-3000:] for p in sorted(tmp_path.glob("worker-*.log")))
        assert workers[survivor].poll() is None, f"the other worker had stopped:\n{logs()}"
        try:
            done = wait_for(finished_cycle, TAKEOVER_BOUND_S, "the other worker to run the cycle")
        except pytest.fail.Exception:
            pytest.fail(f"no takeover within {TAKEOVER_BOUND_S} s; the workers said:\n{logs()}")
        took_s = time.monotonic() - killed_at
        with engine.connect() as connection:
            assert lock_holder(connection) in (None, survivor)

        time.sleep(3 * TICK_S + 2)  # more ticks in the same slot, and deliveries
        with sessions() as session:
            runs = session.scalars(select(CycleRun).order_by(CycleRun.started_at)).all()
            assert runs[0].status == "abandoned" and {r.status for r in runs[1:]} == {"ok"} and done.id == runs[1].id
            slots = [slot_start(r.started_at, 60) for r in runs[1:]]
            assert len(slots) == len(set(slots))  # once per slot (a second only if the hour turned meanwhile)
            for earlier, later in zip(runs[1:], runs[2:]):
                assert later.started_at >= earlier.finished_at  # never two at once
            alerts = session.scalar(select(func.count()).select_from(Alert))
            issued = session.execute(select(OutboxMessage.alert_id, func.count()).where(
                OutboxMessage.event_type == "alert.issued").group_by(OutboxMessage.alert_id)).all()
            statuses = set(session.scalars(select(OutboxMessage.status)))
        assert alerts > 0 and len(issued) == alerts and {count for _, count in issued} == {1}
        assert statuses == {"delivered"}
        received = [r.headers["webhook-id"] for r, _ in httpserver.log]
        with sessions() as session:
            assert set(received) == set(session.scalars(select(OutboxMessage.message_id)))
        print(f"takeover after {took_s:.1f} s")
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        engine.dispose()
