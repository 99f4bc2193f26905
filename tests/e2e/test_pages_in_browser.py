"""A county officer in a real browser (Debian's headless Chromium): log in, acknowledge a task, complete it."""

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
from tests.conftest import PASSWORD
from tests.e2e.test_sheet_in_browser import chromium

COUNTY = "220102"


@pytest.fixture
def served(make_runtime):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    with rt.sessions.begin() as session:
        create_user(session, "nanguan", "county", COUNTY, PASSWORD, rt.config.area_codes, actor="test")
    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield rt, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_county_officer_acknowledges_and_completes_a_task_on_a_phone(served, page):
    rt, base = served
    with rt.sessions() as session:
        task = session.scalars(select(Task).where(Task.region_code == COUNTY, Task.status == "open")
                               .order_by(Task.due_at, Task.id)).first()
    page.goto(base + "/")
    page.fill("input[name=name]", "nanguan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
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
