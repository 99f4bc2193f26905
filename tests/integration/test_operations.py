"""Operations: /metrics, /readyz, JSON logs with the cycle id, the job history, one cycle per slot."""

from __future__ import annotations

import io
import json
import shutil
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from warning.cycle import run_cycle
from warning.logs import configure
from warning.models import Alert, CycleRun, JobRun, OutboxMessage, utcnow
from warning.scheduler import recorded, run_due_cycle
from warning.sources import open_source
from warning.web import create_app
from tests.conftest import write_subscription


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for sample in family.samples}


def test_metrics_parse_and_match_the_database(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued"], regions=["220800"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    samples = scrape(create_app(rt).test_client())
    with rt.sessions() as session:
        open_alerts = session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "open"))
        delivered = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "delivered"))
    assert sum(v for (name, _), v in samples.items() if name == "coldwarn_alerts_open") == open_alerts > 0
    assert samples[("coldwarn_outbox_messages", (("status", "delivered"),))] == delivered > 0
    assert samples[("coldwarn_delivery_attempts_total", (("outcome", "delivered"),))] == delivered
    assert samples[("coldwarn_cycles_total", (("status", "ok"),))] == 1
    stages = {dict(labels)["stage"] for (name, labels) in samples if name == "coldwarn_cycle_stage_seconds"}
    assert {"pull", "assess", "persist", "deliver"} <= stages
    assert samples[("coldwarn_outbox_oldest_pending_age_seconds", ())] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readyz_follows_the_database_and_the_scheduler(make_runtime, database_url, tmp_path):
    rt = make_runtime()
    client = create_app(rt).test_client()
    assert client.get("/readyz").json["problems"] == ["scheduler: no cycle has run yet"]
    run_cycle(rt, open_source(rt, "demo"))
    assert client.get("/readyz").status_code == 200

    database = tmp_path / "coldwarn.db"
    rt.engine.dispose()  # the last connection closing folds the WAL into the file
    shutil.move(database, tmp_path / "away.db")  # the database goes away
    gone = client.get("/readyz")
    assert gone.status_code == 503 and gone.json["problems"][0].startswith("database:")
    rt.engine.dispose()
    for leftover in tmp_path.glob("coldwarn.db*"):  # the empty file SQLite made in its place
        leftover.unlink()
    shutil.move(tmp_path / "away.db", database)  # and comes back
    assert client.get("/readyz").status_code == 200

    with rt.sessions.begin() as session:  # no cycle for three hours: no scheduler is alive
        session.execute(update(CycleRun).values(started_at=utcnow() - timedelta(hours=3)))
    stalled = client.get("/readyz")
    assert stalled.status_code == 503 and "no cycle has started since" in stalled.json["problems"][0]


def test_json_logs_carry_the_cycle_id(make_runtime):
    rt = make_runtime()
    stream = io.StringIO()
    handler = configure("json", stream=stream)
    try:
        summary = run_cycle(rt, open_source(rt, "demo"))
    finally:
        import logging
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [line for line in lines if line["cycle_id"] == summary["cycle_id"]]
    assert [line["message"].split(" ")[1] for line in mine if line["logger"] == "warning.cycle"] == ["started", "finished:"]
    assert all(line["instance"] and line["ts"].endswith("Z") for line in lines)


def test_one_cycle_per_slot_and_the_job_history(make_runtime):
    rt = make_runtime()
    source = open_source(rt, "demo")
    job = recorded(rt, "cycle", run_due_cycle, rt, source)
    job()
    job()  # same slot: nothing to do, and an idle tick is not recorded
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CycleRun)) == 1
        runs = session.scalars(select(JobRun)).all()
    assert [(r.job, r.status) for r in runs] == [("cycle", "ok")] and runs[0].counts["alerts_issued"] > 0

    with rt.sessions.begin() as session:  # a cycle cut off by a dead process, in a new slot
        session.execute(update(CycleRun).values(started_at=utcnow() - timedelta(hours=2)))
        session.add(CycleRun(id="cut-off", started_at=utcnow(), as_of=utcnow(), status="running"))
    job()
    with rt.sessions() as session:
        statuses = dict(session.execute(select(CycleRun.id, CycleRun.status)).all())
    assert statuses.pop("cut-off") == "abandoned" and sorted(statuses.values()) == ["ok", "ok"]


def test_a_failing_job_is_recorded_with_its_error_and_shown_in_the_api(api):
    def feeds_unreachable():
        raise ConnectionError("forecast host unreachable")
    recorded(api.rt, "cycle", feeds_unreachable)()  # does not raise: the schedule goes on
    recorded(api.rt, "cycle", run_due_cycle, api.rt, open_source(api.rt, "demo"))()
    runs = api("GET", "/api/v1/job-runs?job=cycle", "watcher").json["items"]
    assert [(r["status"], r["error"]) for r in runs] == [("ok", None),
                                                        ("failed", "ConnectionError: forecast host unreachable")]
    cycles = api("GET", "/api/v1/cycle-runs", "watcher").json
    assert cycles["total"] == 1 and cycles["items"][0]["status"] == "ok"
    assert cycles["items"][0]["summary"]["alerts"]["issued"] == runs[0]["counts"]["alerts_issued"]
