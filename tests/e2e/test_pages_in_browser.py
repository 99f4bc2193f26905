"""Real browser (Debian's headless Chromium): a county officer acknowledges and completes a task on a
phone; an admin edits a threshold, previews what it changes, saves it and finds it in the audit log."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from warning.accounts import create_user
from warning.cycle import run_cycle
from warning.models import Task
from warning.sources import open_source
from warning.web import create_app
from tests import demo
from tests.conftest import PASSWORD
from tests.e2e.test_sheet_in_browser import chromium

COUNTY = "220102"


@pytest.fixture
def served(make_runtime):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    with rt.sessions.begin() as session:
        create_user(session, "nanguan", "county", COUNTY, PASSWORD, rt.config.area_codes, actor="test")
        create_user(session, "root", "admin", None, PASSWORD, rt.config.area_codes, actor="test")
    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield rt, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    return browser.new_page(viewport={"width": 390, "height": 844})  # a phone


def log_in(page, base: str, name: str) -> None:
    page.goto(base + "/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_county_officer_acknowledges_and_completes_a_task_on_a_phone(served, page):
    rt, base = served
    with rt.sessions() as session:
        task = session.scalars(select(Task).where(Task.region_code == COUNTY, Task.status == "open")
                               .order_by(Task.due_at, Task.id)).first()
    log_in(page, base, "nanguan")
    page.wait_for_url(f"{base}/regions/{COUNTY}")

    card = page.locator(f"#task-{task.id}")
    card.get_by_role("button", name="接收任务").click()
    page.wait_for_load_state()
    assert card.locator(".status").inner_text() == "已接收"
    card.locator("input[name=note]").fill("已走访 12 户，发放棉被 5 床")
    card.get_by_role("button", name="标记完成").click()
    page.wait_for_load_state()
    assert card.locator(".status").inner_text() == "已完成"
    assert "已走访 12 户" in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    with rt.sessions() as session:
        stored = session.get(Task, task.id)
    assert (stored.status, stored.updated_by) == ("done", "nanguan")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_edits_a_threshold_sees_the_preview_differ_saves_and_finds_the_audit_entry(served, browser):
    rt, base = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, base, "root")
    page.wait_for_url(f"{base}/")
    placed = sum(r["latitude"] == r["latitude"] for r in rt.config.regions_by_code.values())
    assert page.locator("svg.country-map circle").count() == placed  # the whole country at a glance
    orange = next(code for code, level in demo.designed_levels().items() if level == "orange")
    fills = {code: page.locator(f'svg.country-map circle[data-code="{code}"]').evaluate(
        "dot => [dot.getAttribute('class'), getComputedStyle(dot).fill]") for code in (orange, "110101")}
    assert fills[orange] == ["dot orange", "rgb(240, 120, 0)"]  # the demo's western counties reach orange
    assert fills["110101"] == ["dot unassessed", "rgb(255, 255, 255)"]  # no forecast for Beijing: hollow, not clear

    page.get_by_role("link", name="预警规则").click()
    page.wait_for_url(f"{base}/rules")
    before = page.locator("#in-force").inner_text()
    page.fill("#area", "吉林省")  # by name; the list offers provinces and prefectures
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(f"{base}/rules?section=cold_wave&area=%E5%90%89%E6%9E%97%E7%9C%81")
    orange = page.get_by_label("橙色 · 最低气温降幅")
    assert orange.input_value() == "" and orange.get_attribute("placeholder") == "12"  # inherited, shown grey
    orange.fill("14")
    page.select_option("select[name=days]", "7")
    page.get_by_role("button", name="预览变化").click()
    page.wait_for_load_state()
    lowered = page.locator("#preview tr[data-change=lowered]")
    assert lowered.count() == 11  # the 11 orange counties of the demo would have been yellow
    assert "橙色" in lowered.first.inner_text() and "黄色" in lowered.first.inner_text()
    assert page.get_by_label("橙色 · 最低气温降幅").input_value() == "14"  # the edit survives the preview
    assert page.locator("#in-force").inner_text() == before  # and nothing was saved

    page.fill("input[name=reason]", "省厅通知第7号：橙色降温幅度调整为14°C")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/rules?section=cold_wave&area=220000")
    assert "下一轮运行起生效" in page.locator(".flash").inner_text()
    assert page.locator("#in-force").inner_text() != before
    assert "本级设置" in page.locator("tr[data-level=orange] .origin").first.inner_text()

    page.get_by_role("link", name="审计日志").click()
    page.wait_for_url(f"{base}/audit")
    newest = page.locator("table.audit tbody tr").first
    assert newest.get_attribute("data-action") == "rules.version"
    assert "root" in newest.inner_text() and "省厅通知第7号" in newest.inner_text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_province_officer_reads_how_the_triggers_scored_and_todays_probabilities(served, browser):
    rt, base = served
    with rt.sessions.begin() as session:
        create_user(session, "jilin", "province", "220000", PASSWORD, rt.config.area_codes, actor="test")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, base, "jilin")
    page.click("nav.console >> text=预警检验")
    assert page.locator("#cycle-count").inner_text() == "6"  # the demo's five earlier cycles and its own
    blue = page.locator('#contingency tr[data-source="deterministic"][data-hazard="cold_wave"][data-level="blue"]')
    assert int(blue.get_attribute("data-hits")) > 0
    chart = page.locator("#reliability-chart svg")
    assert chart.bounding_box()["width"] > 300 and page.locator("#reliability-chart circle").count() >= 2
    page.select_option("select[name=level]", "yellow")
    page.click("form.filters button[type=submit]")
    assert "level=yellow" in page.url
    lines = page.locator('#lead-chart polyline[data-source="deterministic"]')
    assert lines.count() == 2 and lines.first.bounding_box()["width"] > 100  # POD and FAR by lead day
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Verification" and "命中" not in page.locator("main").inner_text()

    page.goto(f"{base}/regions/{COUNTY}?lang=zh")
    shares = page.locator("#probabilities td[data-pct]")
    assert shares.count() > 0 and page.locator("#probabilities td.stage-act, #probabilities td.stage-prepare").count() > 0
