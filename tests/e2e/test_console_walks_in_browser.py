"""The console walked in Chromium as its users would: a county officer round-trips the caseload
template and sees a refused step said beside the task, on a phone; an admin adds a webhook
subscription, tests it against a real receiver and rotates its secret."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from tests.e2e.test_pages_in_browser import COUNTY, browser, log_in, page, served  # noqa: F401  (fixtures)
from warning.models import Caseload, Task

DIBAO = "城市低保人数"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_county_officer_round_trips_the_caseload_template(served, page):  # noqa: F811
    rt, base = served
    log_in(page, base, "nanguan")
    page.wait_for_url(f"{base}/regions/{COUNTY}")
    page.goto(f"{base}/caseload")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载救助对象名册模板").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    header, own = rows[0], [r for r in rows[1:] if r[0] == COUNTY]
    assert len(rows) == 2 and len(own) == 1  # the officer's own county only, Chinese headers
    column = header.index(DIBAO)
    before = int(own[0][column])
    own[0][column] = str(before + 25)  # as edited in Excel and saved as CSV
    edited = io.StringIO()
    csv.writer(edited, lineterminator="\r\n").writerows([header, own[0]])

    page.set_input_files("input[name=file]", files=[{"name": "南关区名册.csv", "mimeType": "text/csv",
                                                      "buffer": edited.getvalue().encode("utf-8-sig")}])
    page.get_by_role("button", name="上传并预览").click()
    change = page.locator(f"#preview tr[data-code='{COUNTY}'][data-field=dibao_urban]")
    assert change.is_visible() and str(before + 25) in change.inner_text()
    with rt.sessions() as session:
        assert session.get(Caseload, COUNTY).dibao_urban == before  # a preview stores nothing
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert "已导入 1 行" in page.locator(".flash.ok").inner_text()
    with rt.sessions() as session:
        assert session.get(Caseload, COUNTY).dibao_urban == before + 25


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_step_is_said_beside_the_task_in_view_on_a_phone(served, page):  # noqa: F811
    rt, base = served
    with rt.sessions() as session:
        last = session.scalars(select(Task).where(Task.region_code == COUNTY, Task.status == "open")
                               .order_by(Task.due_at.desc(), Task.id.desc())).first()
    log_in(page, base, "nanguan")
    page.wait_for_url(f"{base}/regions/{COUNTY}")
    card = page.locator(f"#task-{last.id}")
    card.get_by_role("button", name="无需执行").click()  # without the note it needs
    page.wait_for_load_state()
    alert = card.get_by_role("alert")
    assert "请在备注中写明为何无需执行" in alert.inner_text()
    box = alert.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844  # on screen, not 700 px above it
    with rt.sessions() as session:
        assert session.get(Task, last.id).status == "open"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_adds_tests_and_rotates_a_webhook_subscription(served, browser, httpserver):  # noqa: F811
    rt, base = served
    httpserver.expect_request("/hook").respond_with_data("ok")
    admin = browser.new_page(viewport={"width": 1400, "height": 900})
    log_in(admin, base, "root")
    admin.wait_for_url(f"{base}/")
    admin.get_by_role("link", name="订阅").click()
    admin.fill("input[name=name]", "jilin-relief-platform")
    admin.fill("input[name=url]", httpserver.url_for("/hook"))
    admin.fill("input[name=regions]", "220000")
    admin.get_by_role("button", name="新增并生成密钥").click()
    first = admin.locator("#secret code").inner_text()
    row = admin.locator("tr[data-name=jilin-relief-platform]")
    assert first.startswith("whsec_") and row.get_attribute("data-health") == "delivering"

    row.get_by_role("button", name="发送测试消息").click()
    admin.wait_for_load_state()
    assert "测试消息已送达" in admin.locator(".flash.ok").inner_text()
    ping = httpserver.log[-1][0]
    assert Webhook(first).verify(ping.get_data(), dict(ping.headers))["type"] == "ping"

    row = admin.locator("tr[data-name=jilin-relief-platform]")
    row.locator("select[name=grace_hours]").select_option("24")
    row.get_by_role("button", name="更换密钥").click()
    second = admin.locator("#secret code").inner_text()
    assert second.startswith("whsec_") and second != first
    assert "旧密钥有效至" in admin.locator("tr[data-name=jilin-relief-platform]").inner_text()
    admin.locator("tr[data-name=jilin-relief-platform]").get_by_role("button", name="发送测试消息").click()
    admin.wait_for_load_state()
    ping = httpserver.log[-1][0]
    for secret in (first, second):  # during the grace period the receiver may hold either
        assert Webhook(secret).verify(ping.get_data(), dict(ping.headers))["type"] == "ping"
