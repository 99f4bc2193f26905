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
from warning.models import Alert, CycleRun, DeliveryAttempt, JobRun, OutboxMessage, utcnow
from warning.scheduler import prune, recorded, run_due_cycle
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
    stages = {dict(labels)["stage"] for (name, labels) in samples if name == "coldwarn_cycle_stage_duration_seconds_count"}
    assert {"pull", "assess", "persist", "deliver"} <= stages
    assert samples[("coldwarn_outbox_oldest_pending_age_seconds", ())] == 0
    assert samples[("coldwarn_delivery_latency_seconds_count", ())] == delivered
    assert samples[("coldwarn_feed_fetches_total", (("feed", "forecast"), ("status", "ok")))] >= 1


def histogram_of(samples: dict, name: str, labels: tuple = ()) -> tuple[list[tuple[float, float]], float, float]:
    """(le, cumulative count) ascending, the sum and the count of one histogram series."""
    buckets = sorted((float(dict(l)["le"]), v) for (n, l), v in samples.items()
                     if n == f"{name}_bucket" and tuple(p for p in l if p[0] != "le") == labels)
    return buckets, samples[(f"{name}_sum", labels)], samples[(f"{name}_count", labels)]


def test_durations_are_histograms_in_seconds_and_counters_survive_pruning(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued"], regions=["220800"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    recorded(rt, "deliver", lambda: {"delivered": 3})()
    client = create_app(rt).test_client()
    before = scrape(client)
    with rt.sessions() as session:
        latencies = [ms / 1000 for ms in session.scalars(select(DeliveryAttempt.latency_ms))]
        persist_s = session.scalars(select(CycleRun.summary)).one()["timings_ms"]["persist"] / 1000
    buckets, total, count = histogram_of(before, "coldwarn_delivery_latency_seconds")
    assert count == len(latencies) > 0 and total == pytest.approx(sum(latencies))
    assert [c for _, c in buckets] == sorted(c for _, c in buckets) and buckets[-1] == (float("inf"), count)
    for bound, cumulative in buckets:  # each bucket counts the attempts at or under its bound
        assert cumulative == sum(latency <= bound for latency in latencies)
    stage, stage_sum, stage_count = histogram_of(before, "coldwarn_cycle_stage_duration_seconds", (("stage", "persist"),))
    assert stage_count == 1 and stage_sum == pytest.approx(persist_s)

    with rt.sessions.begin() as session:  # the history ages past its retention and is pruned
        session.execute(update(JobRun).values(started_at=utcnow() - timedelta(days=400)))
    assert prune(rt)["job_runs_dropped"] == 1
    run_cycle(rt, open_source(rt, "demo"))  # a quiet second cycle: nothing new to send
    after = scrape(client)
    counters = [key for key in before if key[0].endswith(("_total", "_count", "_sum", "_bucket"))]
    assert all(after[key] >= before[key] for key in counters), [k for k in counters if after[k] < before[k]]
    assert after[("coldwarn_job_runs_total", (("job", "deliver"), ("status", "ok")))] == 1  # its row is gone
    assert after[("coldwarn_cycles_total", (("status", "ok"),))] == 2


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_cycle_run_beside_the_server_is_not_taken_for_a_dead_one(make_runtime):
    """On SQLite too, a `run-once` holding the cycle lock (here, this test) keeps the server's tick
    from calling its cycle cut off and running another beside it."""
    from warning.leader import CYCLE_LOCK, cluster_lock
    rt = make_runtime()
    with cluster_lock(rt.engine, CYCLE_LOCK) as held:
        assert held
        with rt.sessions.begin() as session:
            session.add(CycleRun(id="beside", started_at=utcnow(), as_of=utcnow(), status="running"))
        assert run_due_cycle(rt, open_source(rt, "demo")) is None
        with rt.sessions() as session:
            assert session.get(CycleRun, "beside").status == "running"
    assert run_due_cycle(rt, open_source(rt, "demo")) is not None  # free again: the tick runs its cycle
    with rt.sessions() as session:
        assert session.get(CycleRun, "beside").status == "abandoned"  # its holder is gone now
