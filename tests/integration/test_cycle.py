"""One cycle on the demo scenario, on SQLite and PostgreSQL, delivering to a real receiver."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from warning.cycle import run_cycle
from warning.delivery import drain
from warning.feeds.scenario import load_scenario
from warning.models import Alert, OutboxMessage, Subscription, Subsidy, Task
from warning.scenario_data import ensure_scenario_caseload
from tests import demo
from tests.conftest import received_events, write_subscription


def demo_cycle(rt, deliver=True):
    scenario = load_scenario("demo", rt.settings.config_dir, rt.config.region_codes)
    ensure_scenario_caseload(rt, scenario)
    return run_cycle(rt, scenario, deliver=deliver)


@pytest.fixture
def receiver(httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return httpserver


def test_demo_cycle_raises_the_designed_levels_plans_tasks_and_delivers(make_runtime, config_dir, receiver):
    write_subscription(config_dir, receiver.url_for("/hook"))
    rt = make_runtime()
    summary = demo_cycle(rt)

    with rt.sessions() as session:
        levels = dict(session.execute(select(Alert.region_code, Alert.level).where(
            Alert.status == "open", Alert.hazard == "cold_wave")).all())
        issued = session.scalar(select(func.count()).select_from(Alert))
    assert levels == demo.designed_levels()
    assert summary["alerts"]["issued"] == issued
    assert summary["alerts"]["by_hazard"]["cold_wave"] == dict(Counter(levels.values()))
    assert summary["regions_assessed"] == 60  # every Jilin county

    events = received_events(receiver)
    assert summary["deliveries"] == {"delivered": len(events), "failed": 0, "parked": 0}
    issued = {e["data"]["region"]["code"]: e["data"]["level"] for e in events
              if e["type"] == "alert.issued" and e["data"]["hazard"] == "cold_wave"}
    assert issued == levels
    tasklists = [e for e in events if e["type"] == "tasklist.issued"]
    assert sum(len(e["data"]["tasks"]) for e in tasklists) == summary["tasks_created"]
    assert {e["data"]["region"]["code"] for e in events if e["type"] == "subsidy.issued"} == {
        r["code"] for r in demo.jilin_regions() if r["prefecture_code"] != "220100"}
    # Jilin's food index (+6.4 %) started it, the general one (+1.9 %) did not: food set the amount
    assert {e["data"]["amount_by"] for e in events if e["type"] == "subsidy.issued"} == {"food"}
    ids = [req.headers["webhook-id"] for req, _ in receiver.log]
    assert len(ids) == len(set(ids))


def test_second_run_on_the_same_data_issues_and_sends_nothing(make_runtime, config_dir, receiver):
    write_subscription(config_dir, receiver.url_for("/hook"))
    rt = make_runtime()
    demo_cycle(rt)
    with rt.sessions() as session:
        before = [session.scalar(select(func.count()).select_from(t)) for t in (Alert, Task, Subsidy, OutboxMessage)]
    sent = len(receiver.log)

    summary = demo_cycle(rt)

    assert (summary["alerts"]["issued"], summary["alerts"]["updated"], summary["alerts"]["resolved"]) == (0, 0, 0)
    assert summary["tasks_created"] == 0 and summary["subsidies"]["decided"] == 0
    assert summary["messages_enqueued"] == 0 and len(receiver.log) == sent
    with rt.sessions() as session:
        after = [session.scalar(select(func.count()).select_from(t)) for t in (Alert, Task, Subsidy, OutboxMessage)]
    assert after == before


def tasks_of(rt, code) -> dict[str, Task]:
    with rt.sessions() as session:
        return {t.type: t for t in session.scalars(select(Task).where(Task.region_code == code))}


def test_orange_county_task_sheet_counts_people_shelters_and_money(make_runtime):
    rt = make_runtime()
    demo_cycle(rt, deliver=False)
    code = next(c for c, level in demo.designed_levels().items() if level == "orange")
    caseload, shelters = demo.caseload()[code], demo.shelters()[code]
    tasks = tasks_of(rt, code)
    assert set(tasks) == {"early_payment", "check_supplies", "visit_vulnerable", "hotline_duty", "open_shelters",
                          "street_patrol", "institution_safety", "temporary_assistance", "pay_price_subsidy"}
    assert tasks["visit_vulnerable"].quantities["people"] == caseload["ill_disabled"] + caseload["elderly_alone"]
    assert tasks["open_shelters"].quantities["capacity"] == sum(int(s["capacity"]) for s in shelters)
    assert tasks["street_patrol"].quantities["people"] == caseload["rough_sleepers"]
    urban = caseload["dibao_urban"] + caseload["tekun_urban"] + caseload["orphans"] + caseload["unsupported_children"]
    rural = caseload["dibao_rural"] + caseload["tekun_rural"]
    # Jilin's December food CPI +6.4 %: urban 780 x 6.4 % = 49.92 -> 50; rural 540 x 6.4 % = 34.56 -> 35.
    assert tasks["pay_price_subsidy"].quantities["amount_yuan"] == 50 * urban + 35 * rural


def test_blue_counties_are_in_the_prepare_stage_with_preparation_tasks_only(make_runtime):
    rt = make_runtime()
    demo_cycle(rt, deliver=False)
    code = next(c for c, level in demo.designed_levels().items() if level == "blue")
    with rt.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.region_code == code, Alert.hazard == "cold_wave")).one()
        types = set(session.scalars(select(Task.type).where(Task.alert_id == alert.id)))
    assert alert.stage == "prepare" and alert.lead_time_h > 48
    assert types == {"early_payment", "check_supplies"}


def test_changchun_uses_its_own_index_which_does_not_start(make_runtime):
    rt = make_runtime()
    demo_cycle(rt, deliver=False)
    with rt.sessions() as session:
        nanguan = session.scalars(select(Subsidy).where(Subsidy.region_code == "220102")).one()
        changyi = session.scalars(select(Subsidy).where(Subsidy.region_code == "220202")).one()
    assert (nanguan.index_area, nanguan.index_scope, nanguan.started) == ("220100", "prefecture", False)
    assert (changyi.index_area, changyi.triggered_by, changyi.rise_pct) == ("220000", "food", 6.4)


def test_a_receiver_that_keeps_failing_is_retried_then_parked(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down for maintenance", status=503)
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued"])
    (config_dir / "settings.toml").write_text(
        (config_dir / "settings.toml").read_text().replace(
            "retry_schedule_s = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]", "retry_schedule_s = [0, 0, 0]"))
    rt = make_runtime()
    summary = demo_cycle(rt)
    alerts = summary["alerts"]["issued"]
    assert summary["deliveries"] == {"delivered": 0, "failed": alerts, "parked": 0}
    # Each drain sends what is due when it starts; the retries come due on the next ones.
    assert drain(rt.sessions, rt.http, rt.settings.delivery) == {"delivered": 0, "failed": alerts, "parked": 0}
    assert drain(rt.sessions, rt.http, rt.settings.delivery) == {"delivered": 0, "failed": 0, "parked": alerts}
    assert drain(rt.sessions, rt.http, rt.settings.delivery) == {"delivered": 0, "failed": 0, "parked": 0}
    assert len(httpserver.log) == 3 * alerts
    with rt.sessions() as session:
        parked = list(session.scalars(select(OutboxMessage)))
    assert {m.status for m in parked} == {"parked"} and {m.attempts for m in parked} == {3}
    assert all("HTTP 503: down for maintenance" in m.last_error for m in parked)


def test_a_gone_endpoint_is_disabled_and_nothing_more_is_sent_to_it(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued"])
    rt = make_runtime()
    summary = demo_cycle(rt)
    # only the sends already in flight (at most per_endpoint) meet the 410; nothing after it goes out
    assert 1 <= len(httpserver.log) <= rt.settings.delivery.per_endpoint < summary["alerts"]["issued"]
    assert summary["deliveries"]["parked"] == summary["alerts"]["issued"]
    with rt.sessions() as session:
        subscription = session.scalars(select(Subscription)).one()
    assert not subscription.enabled and "410" in subscription.disabled_reason


def test_subscription_scope_and_event_filter(make_runtime, config_dir, receiver):
    write_subscription(config_dir, receiver.url_for("/hook"), regions=["220800"], events=["alert.issued"])
    rt = make_runtime()
    demo_cycle(rt)
    events = received_events(receiver)
    assert {e["type"] for e in events} == {"alert.issued"}
    assert {e["data"]["region"]["code"] for e in events if e["data"]["hazard"] == "cold_wave"} == {
        c for c in demo.designed_levels() if c.startswith("2208")}
    assert all(e["data"]["region"]["code"].startswith("2208") for e in events)


def test_rejected_forecast_batch_is_recorded_and_the_rest_still_assessed(make_runtime, config_dir):
    batch = config_dir / "scenarios" / "demo" / "forecasts" / "openmeteo-02.json"
    data = json.loads(batch.read_text(encoding="utf-8"))
    data[3]["hourly_units"]["wind_speed_10m"] = "furlongs"
    batch.write_text(json.dumps(data), encoding="utf-8")
    rt = make_runtime()
    summary = demo_cycle(rt, deliver=False)
    assert summary["regions_assessed"] == 30
    [error] = summary["feeds"]["rejected"]
    assert "openmeteo-02.json[3]" in error and "hourly_units.wind_speed_10m" in error
