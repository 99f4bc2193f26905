"""The county task loop on the demo: status changes, escalation, resolve, repeats, reminders, progress."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

from triggers.validation import InvalidConfig
from warning.cycle import run_cycle
from warning.delivery import drain
from warning.events import Outbox
from warning.feeds.scenario import load_scenario
from warning.manual_alerts import decide
from warning.models import Alert, Task, utcnow
from warning.render import render_html, render_markdown, sheet_model
from warning.scenario_data import ensure_scenario_caseload
from warning.tasks import progress, set_status
from tests import demo
from tests.conftest import edit_rules, received_events, write_subscription

ORANGE = "220802"  # 洮北区
YELLOW = "220102"  # 南关区


def demo_at(rt, config_dir, hours_later: float = 0):
    """The demo scenario, its clock moved on by `hours_later`."""
    folder = config_dir / "scenarios" / f"demo-plus-{hours_later:g}h"
    if not folder.exists():
        shutil.copytree(config_dir / "scenarios" / "demo", folder)
        manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
        now = datetime.fromisoformat(manifest["now"].replace("Z", "+00:00"))
        manifest["now"] = (now + timedelta(hours=hours_later)).isoformat()
        (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    scenario = load_scenario(str(folder), rt.settings.config_dir, rt.config.region_codes)
    ensure_scenario_caseload(rt, scenario)
    return scenario


def only_cold_wave_and_shelter(config_dir):
    """Turn the GB/T grades off, so a cold-wave alert's tasks are not also held by a grade alert."""
    edit_rules(config_dir, lambda document: document["cold_wave_grade"].insert(0, "enabled", False))


def cold_wave_tasks(rt, code) -> dict[str, Task]:
    with rt.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.region_code == code, Alert.hazard == "cold_wave")
                                .order_by(Alert.id.desc())).first()
        return {t.type: t for t in session.scalars(select(Task).where(Task.alert_id == alert.id).order_by(Task.instance))}


def change(rt, task_id, status, note=None, actor="county-officer"):
    with rt.sessions.begin() as session:
        outbox = Outbox(session, None, utcnow(), 0)
        return set_status(session, rt.config, outbox, task_id, status, note, actor)


def test_a_county_moves_its_tasks_on_and_subscribers_hear_of_it(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["task.updated"], regions=[ORANGE])
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    task = cold_wave_tasks(rt, ORANGE)["visit_vulnerable"]
    for status in ("acknowledged", "in_progress", "done"):
        change(rt, task.id, status, note="visited 1,859 people" if status == "done" else None)
    drain(rt.sessions, rt.http, rt.settings.delivery)
    events = received_events(httpserver)
    assert [e["data"]["task"]["status"] for e in events] == ["acknowledged", "in_progress", "done"]
    assert events[-1]["data"]["changed_by"] == "county-officer" and events[-1]["data"]["task"]["note"] == "visited 1,859 people"


@pytest.mark.parametrize("path, refused", [
    (["done"], "a task that is open cannot become done"),
    (["acknowledged", "acknowledged"], "a task that is acknowledged cannot become acknowledged"),
    (["acknowledged", "done", "in_progress"], "a task that is done cannot become in_progress"),
    (["not_needed"], "a note is required"),
])
def test_illegal_moves_are_refused_and_change_nothing(make_runtime, config_dir, path, refused):
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    task_id = cold_wave_tasks(rt, ORANGE)["hotline_duty"].id
    *allowed, last = path
    for status in allowed:
        change(rt, task_id, status)
    with pytest.raises(InvalidConfig, match=refused):
        change(rt, task_id, last)
    with rt.sessions() as session:
        assert session.get(Task, task_id).status == (allowed[-1] if allowed else "open")


def test_escalation_adds_the_new_tasks_without_repeating_any(make_runtime, config_dir):
    only_cold_wave_and_shelter(config_dir)
    rules = config_dir / "rules.yaml"
    original = rules.read_text(encoding="utf-8")
    rules.write_text(original.replace("orange: {drop_c: 12,", "orange: {drop_c: 14,"), encoding="utf-8")
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    before = cold_wave_tasks(rt, ORANGE)
    assert "institution_safety" not in before  # yellow for now: a 13 degC drop is below orange's 14
    rules.write_text(original, encoding="utf-8")
    summary = run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    after = cold_wave_tasks(rt, ORANGE)
    assert set(after) - set(before) == {"institution_safety", "temporary_assistance"}
    assert all(after[t].id == before[t].id for t in before)
    assert summary["alerts"]["updated"] >= 11
    with rt.sessions() as session:  # no task type twice among the county's live tasks, whatever alert holds it
        live = session.scalars(select(Task.type).where(Task.region_code == ORANGE, Task.status == "open",
                                                       Task.instance == 1)).all()
    assert len(live) == len(set(live))


def test_a_resolve_cancels_only_unstarted_tasks_and_says_why(make_runtime, config_dir):
    only_cold_wave_and_shelter(config_dir)
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    tasks = cold_wave_tasks(rt, ORANGE)
    change(rt, tasks["early_payment"].id, "acknowledged")
    change(rt, tasks["early_payment"].id, "in_progress")
    change(rt, tasks["check_supplies"].id, "acknowledged")
    change(rt, tasks["check_supplies"].id, "done")
    change(rt, tasks["hotline_duty"].id, "acknowledged")
    with rt.sessions.begin() as session:
        decide(session, rt.config.region_codes, region_code=ORANGE, hazard="cold_wave", action="stand_down", level=None,
               reason="front stalled", actor="admin-li", hours=24)
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    with rt.sessions() as session:
        statuses = {t.type: (t.status, t.note) for t in session.scalars(
            select(Task).where(Task.id.in_([t.id for t in tasks.values()])))}
    assert statuses["early_payment"][0] == "in_progress" and statuses["check_supplies"][0] == "done"
    assert statuses["hotline_duty"] == ("not_needed", "alert resolved: stood down by admin-li: front stalled")
    # shelters and patrols are still called for by the county's night-shelter alert: they move there
    assert statuses["open_shelters"][0] == "open"


def test_daily_tasks_repeat_while_the_cold_lasts_and_overdue_ones_are_reminded_once(make_runtime, config_dir):
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    later = run_cycle(rt, demo_at(rt, config_dir, 30), deliver=False)  # 30 h on: 20 Jan 14:00 local
    with rt.sessions() as session:
        visits = session.scalars(select(Task).where(Task.region_code == ORANGE, Task.type == "visit_vulnerable")
                                 .order_by(Task.instance)).all()
    assert [v.instance for v in visits] == [1, 2]
    assert visits[1].due_at - visits[0].due_at == timedelta(hours=24)
    assert later["overdue_reminders"] > 0
    again = run_cycle(rt, demo_at(rt, config_dir, 30), deliver=False)
    assert again["overdue_reminders"] == 0 and again["tasks_created"] == 0


def test_progress_rolls_up_by_prefecture(make_runtime, config_dir):
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    task = cold_wave_tasks(rt, ORANGE)["check_supplies"]
    change(rt, task.id, "acknowledged")
    change(rt, task.id, "done")
    with rt.sessions() as session:
        rows = {r["code"]: r for r in progress(session, rt.config, "prefecture", utcnow())}
        total = session.query(Task).filter(Task.region_code.like("2208%")).count()
    baicheng = rows["220800"]
    assert (baicheng["name"], baicheng["tasks"], baicheng["done"]) == ("白城市", total, 1)
    assert baicheng["overdue"] == baicheng["tasks"] - 1  # the scenario is in January: everything else is late


def test_the_orange_county_sheet_shows_counts_money_shelters_and_local_times(make_runtime, config_dir):
    rt = make_runtime()
    run_cycle(rt, demo_at(rt, config_dir), deliver=False)
    caseload, shelters = demo.caseload()[ORANGE], demo.shelters()[ORANGE]
    with rt.sessions() as session:
        zh = sheet_model(session, rt.config, ORANGE, demo_at(rt, config_dir).now, "zh")
        en = sheet_model(session, rt.config, ORANGE, demo_at(rt, config_dir).now, "en")
    html, markdown = render_html(zh), render_markdown(zh)
    people = int(caseload["ill_disabled"] + caseload["elderly_alone"])
    assert f"对 {people} 名低收入重病重残人员和独居老人" in html
    assert all(s["name"] in html for s in shelters)
    assert "寒潮 橙色" in html and "开始 2026-01-21 00:00" in html  # onset in Beijing time
    shelters_row = html[html.index("开放临时庇寒场所(24小时)"):]
    assert shelters_row.index("2026-01-20 12:00") < shelters_row.index("</tr>")  # due 12 h before onset, local
    urban = caseload["dibao_urban"] + caseload["tekun_urban"] + caseload["orphans"] + caseload["unsupported_children"]
    rural = caseload["dibao_rural"] + caseload["tekun_rural"]
    amount = 50 * urban + 35 * rural  # 780 x 6.4 % -> 50 yuan, 540 x 6.4 % -> 35 yuan
    assert "发放 2025-12 价格临时补贴" in markdown and f"合计 {amount:,.2f} 元" in markdown
    assert "城市每人 50.00 元、农村每人 35.00 元" in html
    assert f"Visit, phone or video-call each of the {people}" in render_html(en)
    assert "Cold-weather relief task sheet" in render_html(en)
