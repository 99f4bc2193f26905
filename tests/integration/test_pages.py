"""The pages: login and sessions, CSRF, who sees which county, and a county working its task list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from warning.cycle import run_cycle
from warning.models import AuditEntry, Task
from warning.sources import open_source
from warning.web import create_app
from tests.conftest import log_in

OWN, FOREIGN_IN_PROVINCE, OTHER_PROVINCE = "220102", "220802", "110101"


@pytest.fixture
def site(api):
    """The demo after one cycle, with the api fixture's users; site(name) is a logged-in browser."""
    run_cycle(api.rt, open_source(api.rt, "demo"))

    def browser(name: str | None = None):
        client = create_app(api.rt).test_client()
        if name:
            assert log_in(client, name).status_code == 302
        return client
    browser.rt = api.rt
    return browser


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def first_open_task(rt, code: str) -> Task:
    with rt.sessions() as session:
        return session.scalars(select(Task).where(Task.region_code == code, Task.status == "open")
                               .order_by(Task.due_at, Task.id)).first()


def test_pages_need_a_login_and_health_does_not(site):
    anonymous = site()
    for path in ("/", f"/regions/{OWN}", f"/regions/{OWN}/sheet"):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert anonymous.get("/healthz").status_code == 200


def test_wrong_password_and_forged_forms_are_refused(site):
    client = site()
    page = client.get("/login")
    wrong = client.post("/login", data={"name": "root", "password": "guess", "csrf_token": csrf(page)})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    forged = client.post("/login", data={"name": "root", "password": "correct horse battery"})
    assert forged.status_code == 400  # no CSRF token: not from our form
    assert client.get("/").status_code == 302


def test_password_guessing_is_throttled_per_name_until_the_window_passes(site):
    from datetime import timedelta

    from sqlalchemy import update

    from warning.accounts import MAX_FAILURES_PER_NAME, THROTTLE_WINDOW
    from warning.models import LoginFailure, utcnow
    guesser = site()
    for _ in range(MAX_FAILURES_PER_NAME):
        assert log_in(guesser, "nanguan", "guess-" + "x" * 12).status_code == 401
    locked = log_in(guesser, "nanguan")  # even the right password waits now
    assert locked.status_code == 429 and "15 分钟" in locked.get_data(as_text=True)
    assert log_in(site(), "jilin").status_code == 302  # other people are not locked out
    with site.rt.sessions.begin() as session:  # the window passes
        session.execute(update(LoginFailure).values(at=utcnow() - THROTTLE_WINDOW - timedelta(seconds=1)))
    assert log_in(site(), "nanguan").status_code == 302
    with site.rt.sessions() as session:
        assert session.scalars(select(LoginFailure).where(LoginFailure.name == "nanguan")).all() == []


def test_session_cookie_is_secure_httponly_and_samesite(make_runtime):
    rt = make_runtime(COLDWARN_SECURE_COOKIES="1")
    client = create_app(rt).test_client()
    cookie = client.get("/login", base_url="https://coldwarn.example").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_goes_back_only_to_a_page_of_this_site(site):
    client = site()
    page = client.get("/login")
    response = client.post("/login?next=//evil.example/x", data={"name": "root", "password": "correct horse battery",
                                                                  "csrf_token": csrf(page)})
    assert response.location == "/"
    assert site("nanguan").get("/").location == f"/regions/{OWN}"  # a county lands on its own page


@pytest.mark.parametrize("who, code, status", [
    ("root", OWN, 200), ("root", OTHER_PROVINCE, 200),
    ("jilin", OWN, 200), ("jilin", FOREIGN_IN_PROVINCE, 200), ("jilin", OTHER_PROVINCE, 403),
    ("beijing", OWN, 403), ("beijing", OTHER_PROVINCE, 200),
    ("nanguan", OWN, 200), ("nanguan", FOREIGN_IN_PROVINCE, 403), ("nanguan", OTHER_PROVINCE, 403),
    ("watcher", OWN, 200), ("root", "999999", 404),
])
def test_who_sees_which_county(site, who, code, status):
    client = site(who)
    assert client.get(f"/regions/{code}").status_code == status
    assert client.get(f"/regions/{code}/sheet").status_code == status


def test_overview_lists_only_the_callers_area(site):
    jilin = site("jilin").get("/").get_data(as_text=True)
    beijing = site("beijing").get("/").get_data(as_text=True)
    assert "/regions/220802" in jilin and "当前预警 (0)" not in jilin
    assert "/regions/220" not in beijing  # no Jilin county shows to Beijing's province admin


@pytest.mark.parametrize("who, allowed", [("nanguan", True), ("jilin", True), ("root", True),
                                          ("beijing", False), ("watcher", False)])
def test_who_may_change_a_county_task(site, who, allowed):
    task = first_open_task(site.rt, OWN)
    client = site(who)
    token = csrf(client.get("/login"))
    response = client.post(f"/tasks/{task.id}/status", data={"status": "acknowledged", "csrf_token": token})
    assert response.status_code == (302 if allowed else 404 if who == "beijing" else 403)
    with site.rt.sessions() as session:
        assert session.get(Task, task.id).status == ("acknowledged" if allowed else "open")


def test_a_county_acknowledges_and_completes_a_task_with_a_note(site):
    county = site("nanguan")
    task = first_open_task(site.rt, OWN)
    page = county.get(f"/regions/{OWN}")
    html = page.get_data(as_text=True)
    assert f'id="task-{task.id}"' in html and "接收任务" in html and "打印任务单" in html
    token = csrf(page)

    refused = county.post(f"/tasks/{task.id}/status", data={"status": "done", "csrf_token": token},
                          follow_redirects=True)
    card = re.search(rf'<div class="task" id="task-{task.id}".*?</form>', refused.get_data(as_text=True), re.S).group(0)
    assert '<div class="flash error" role="alert">此任务当前为“待接收”,不能改为“已完成”(可改为:已接收、无需执行)。</div>' in card
    unsaid = county.post(f"/tasks/{task.id}/status", data={"status": "not_needed", "csrf_token": token},
                         follow_redirects=True).get_data(as_text=True)  # the error shows in the task, by its note
    assert re.search(rf'id="task-{task.id}".*?请在备注中写明为何无需执行。.*?name="note"', unsaid, re.S)
    with site.rt.sessions() as session:
        assert session.get(Task, task.id).status == "open"  # open cannot jump to done
    county.post(f"/tasks/{task.id}/status", data={"status": "acknowledged", "csrf_token": token})
    done = county.post(f"/tasks/{task.id}/status", data={"status": "done", "note": "已走访 12 户", "csrf_token": token},
                       follow_redirects=True)
    assert "已更新" in done.get_data(as_text=True) and "已走访 12 户" in done.get_data(as_text=True)
    with site.rt.sessions() as session:
        stored = session.get(Task, task.id)
        assert (stored.status, stored.note, stored.updated_by) == ("done", "已走访 12 户", "nanguan")
        audited = session.scalars(select(AuditEntry).where(AuditEntry.target == f"task/{task.id}")).all()
        assert [a.after["status"] for a in audited] == ["acknowledged", "done"]


def test_the_language_switch_sticks_for_the_session(site):
    client = site("nanguan")
    english = client.get(f"/regions/{OWN}?lang=en").get_data(as_text=True)
    assert "Acknowledge" in english and "Printable task sheet" in english
    assert "Acknowledge" in client.get(f"/regions/{OWN}").get_data(as_text=True)
    assert "接收任务" in client.get(f"/regions/{OWN}?lang=zh").get_data(as_text=True)


def test_printing_the_sheet_in_english_leaves_the_console_in_chinese(site):
    client = site("nanguan")
    region = client.get(f"/regions/{OWN}").get_data(as_text=True)
    assert f'href="/regions/{OWN}/sheet?lang=en"' in region and "英文版" in region
    sheet = client.get(f"/regions/{OWN}/sheet?lang=en").get_data(as_text=True)
    assert "Tasks" in sheet and "任务清单" not in sheet
    assert "接收任务" in client.get(f"/regions/{OWN}").get_data(as_text=True)  # still Chinese


@pytest.mark.parametrize("lang, heading, back", [("zh", "找不到页面", "返回首页"), ("en", "Not found", "Back to the start page")])
def test_errors_are_pages_of_the_console_in_its_language(site, lang, heading, back):
    client = site("watcher")
    client.get(f"/?lang={lang}")
    missing = client.get("/no-such-page")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404 and heading in page and back in page
    assert 'nav class="console"' in page and "watcher" in page  # the navigation and who is logged in
    refused = client.get("/caseload")
    assert refused.status_code == 403 and ("无权访问" if lang == "zh" else "Not allowed") in refused.get_data(as_text=True)
    stranger = site().get("/no-such-page")  # nobody logged in: the same page, without navigation
    assert stranger.status_code == 404 and "找不到页面" in stranger.get_data(as_text=True)


def test_logging_out_needs_the_form_and_ends_the_session(site):
    client = site("nanguan")
    assert client.post("/logout").status_code == 400
    token = csrf(client.get(f"/regions/{OWN}"))
    assert client.post("/logout", data={"csrf_token": token}).location == "/login"
    assert client.get(f"/regions/{OWN}").status_code == 302


def session_cookie(client) -> str:
    return client.get_cookie("coldwarn_session").value


def test_a_cookie_copied_before_logging_out_no_longer_works(site):
    client = site("nanguan")
    copied = session_cookie(client)
    elsewhere = create_app(site.rt).test_client()
    elsewhere.set_cookie("coldwarn_session", copied)
    assert elsewhere.get(f"/regions/{OWN}").status_code == 200  # the copy works while the login lasts
    client.post("/logout", data={"csrf_token": csrf(client.get(f"/regions/{OWN}"))})
    replayed = create_app(site.rt).test_client()
    replayed.set_cookie("coldwarn_session", copied)
    assert replayed.get(f"/regions/{OWN}").location.startswith("/login")
    assert site("nanguan").get(f"/regions/{OWN}").status_code == 200  # a new login works


def test_a_deactivated_user_is_logged_out_at_once(site):
    from sqlalchemy import update
    from warning.models import User
    client = site("nanguan")
    with site.rt.sessions.begin() as session:
        session.execute(update(User).where(User.name == "nanguan").values(active=False))
    assert client.get(f"/regions/{OWN}").location.startswith("/login")


def test_an_unknown_name_takes_as_long_to_refuse_as_a_wrong_password(site):
    # Names must not be found by timing: before, 50 ms against 330 ms. Medians of five tries each
    # (the throttle allows ten failures a name); a tenth of a known name's time would fail.
    import time
    from statistics import median

    def refusal_s(name: str) -> float:
        client = create_app(site.rt).test_client()
        token = csrf(client.get("/login"))
        started = time.perf_counter()
        answer = client.post("/login", data={"name": name, "password": "wrong password!", "csrf_token": token})
        elapsed = time.perf_counter() - started
        assert answer.status_code == 401
        return elapsed

    known = median(refusal_s("nanguan") for _ in range(5))
    unknown = median(refusal_s(f"nobody{i}") for i in range(5))
    assert unknown > 0.5 * known, (unknown, known)
