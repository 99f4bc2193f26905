"""The admin console pages: dashboard grid, county chart and history, rules editor with preview,
audit log, deliveries with replay, progress and caseload upload, each for the roles that may use it."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_SECRET, log_in
from warning.cycle import run_cycle
from warning.models import Alert, Caseload, OutboxMessage, RuleVersion
from warning.sources import open_source
from warning.web import create_app

OWN, FOREIGN_IN_PROVINCE = "220102", "220802"


def browsers(api):
    """browser(name): a logged-in test client of the api fixture's app."""
    def browser(name: str):
        client = create_app(api.rt).test_client()
        assert log_in(client, name).status_code == 302
        return client
    browser.rt, browser.api = api.rt, api
    return browser


@pytest.fixture
def site(api):
    run_cycle(api.rt, open_source(api.rt, "demo"), deliver=False)
    return browsers(api)


def text_of(page) -> str:
    return page.get_data(as_text=True)


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text_of(page)).group(1)


def map_dots(page: str) -> dict[str, str]:
    """County code -> the state its dot on the overview's map is drawn in."""
    return {code: state for state, code in re.findall(r'<circle class="dot (\w+)" data-code="(\d{6})"', page)}


def test_the_map_colours_every_county_by_its_highest_level_and_not_assessed_apart_from_clear(site):
    """The demo forecasts Jilin only: its counties are coloured by level or clear; the rest of the
    country is not assessed, never shown as all clear."""
    page = text_of(site("root").get("/"))
    dots = map_dots(page)
    placed = [r for r in site.rt.config.regions_by_code.values() if r["latitude"] == r["latitude"]]
    assert len(dots) == len(placed) > 2000
    jilin = site.api("GET", "/api/v1/regions?province=220000&per_page=200", "root").json["items"]
    assert all(dots[r["code"]] == (r["level"] or "clear") for r in jilin if r["assessed"])
    assert {state for code, state in dots.items() if not code.startswith("22")} == {"unassessed"}
    assert re.search(rf'data-state="assessed">{sum(r["assessed"] for r in jilin)}<', page)
    clear = sum(state == "clear" for state in dots.values())
    assert re.search(rf'data-state="clear">{clear}<', page)
    unassessed = len(site.rt.config.region_codes) - sum(r["assessed"] for r in jilin)  # with or without a seat
    assert re.search(rf'data-state="unassessed">{unassessed}<', page)
    orange = sum(state == "orange" for state in dots.values())
    assert re.search(rf'data-level="orange">{orange}<', page) and orange > 0
    jilin_only = map_dots(text_of(site("jilin").get("/")))
    assert "110101" not in jilin_only and OWN in jilin_only


def test_the_alert_list_has_one_row_per_county_filtered_and_paged(site):
    browser = site("root")
    page = text_of(browser.get("/"))
    with site.rt.sessions() as session:
        counties = session.scalar(select(func.count(func.distinct(Alert.region_code))).where(Alert.status == "open"))
    assert f"当前预警 ({counties})" in page and counties > 50
    rows = re.findall(r'<td><a href="/regions/(\d{6})" translate="no">', page)
    assert len(rows) == 50 == len(set(rows))  # a page of counties, each once with its hazards together
    second = re.findall(r'<td><a href="/regions/(\d{6})" translate="no">', text_of(browser.get("/?page=2")))
    assert len(second) == counties - 50 and not set(second) & set(rows)
    orange = text_of(browser.get("/?level=orange&hazard=cold_wave&province=220000"))
    orange_rows = re.findall(r'<tr>\s*<td><a href="/regions/(\d{6})" translate="no">.*?</tr>', orange, re.S)
    assert orange_rows and all(dots == "orange" for code, dots in map_dots(page).items() if code in orange_rows)
    assert "寒潮 橙色" in orange and 'value="orange" selected' in orange
    assert f"当前预警 ({len(orange_rows)})" in orange


def test_a_county_page_draws_its_forecast_with_threshold_lines_and_lists_its_alert_history(site):
    page = text_of(site("nanguan").get(f"/regions/{OWN}"))
    points = re.search(r'<polyline class="tmin" points="([^"]+)"', page).group(1).split()
    days = re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})</td><td>(-?[\d.]+)</td>", page)
    assert len(points) == len(days) >= 7
    lowest = min(range(len(days)), key=lambda i: float(days[i][1]))
    assert float(points[lowest].split(",")[1]) == max(float(p.split(",")[1]) for p in points)  # lowest is drawn lowest
    assert re.findall(r'<line class="threshold (\w+)"', page) == ["blue", "orange"]  # <=4 (blue/yellow), <=0
    assert "蓝色/黄色 ≤4°C" in page and "橙色/红色 ≤0°C" in page
    with site.rt.sessions() as session:
        alerts = session.scalar(select(func.count()).select_from(Alert).where(Alert.region_code == OWN))
    history = page[page.index('class="history"'):]
    assert history.count("<tr><td>") == alerts > 0


def edited_rules(client) -> tuple[str, str]:
    page = client.get("/rules/yaml")
    text = re.search(r'<textarea class="rules"[^>]*>(.*?)</textarea>', text_of(page), re.S).group(1)
    import html
    return csrf(page), html.unescape(text).replace("orange: {drop_c: 12,", "orange: {drop_c: 14,")


def test_the_rules_editor_previews_then_saves_with_a_reason_and_the_audit_log_shows_it(site):
    admin = site("root")
    token, text = edited_rules(admin)
    preview = admin.post("/rules/yaml", data={"csrf_token": token, "text": text, "days": "7", "action": "preview"})
    assert preview.status_code == 200
    assert text_of(preview).count('data-change="lowered"') == 11
    with site.rt.sessions() as session:
        versions = session.scalar(select(func.count()).select_from(RuleVersion))
    no_reason = admin.post("/rules/yaml", data={"csrf_token": token, "text": text, "action": "save", "reason": ""})
    assert no_reason.status_code == 422
    assert re.search(r'id="reason-problem" role="alert">请填写修改原因', text_of(no_reason))  # at the reason box
    saved = admin.post("/rules/yaml", data={"csrf_token": token, "text": text, "action": "save",
                                       "reason": "provincial notice No. 7"}, follow_redirects=True)
    assert "下一轮运行起生效" in text_of(saved)
    with site.rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RuleVersion)) == versions + 1
    audit = text_of(admin.get("/audit"))
    first = audit[audit.index('<tr data-action='):]
    assert first.startswith('<tr data-action="rules.version">') and "provincial notice No. 7" in first.split("</tr>")[0]


def test_a_broken_edit_is_shown_back_with_its_problems_and_nothing_is_saved(site):
    admin = site("root")
    token, text = edited_rules(admin)
    broken = text.replace("yellow: {drop_c: 10,", "yellow: {drop_c: -10,")
    with site.rt.sessions() as session:
        versions = session.scalar(select(func.count()).select_from(RuleVersion))
    answer = admin.post("/rules/yaml", data={"csrf_token": token, "text": broken, "action": "save", "reason": "typo"})
    assert answer.status_code == 422 and "寒潮 · 黄色 · 最低气温降幅</span>：须大于 0" in text_of(answer)
    assert "drop_c: -10," in text_of(answer)  # the edit is kept in the editor
    with site.rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RuleVersion)) == versions


@pytest.mark.parametrize("who", ["jilin", "nanguan", "watcher"])
def test_only_admins_change_rules_others_read_them(site, who):
    client = site(who)
    for path in ("/rules", "/rules/yaml"):
        page = client.get(path)
        assert page.status_code == 200 and "readonly" in text_of(page) and 'value="save"' not in text_of(page)
    token, text = edited_rules(client)
    assert client.post("/rules/yaml", data={"csrf_token": token, "text": text, "action": "save", "reason": "x"}).status_code == 403
    form = {"csrf_token": token, "section": "cold_wave", "area": "220000", "v.orange.drop_c": "14", "action": "save",
            "reason": "x"}
    assert client.post("/rules", data=form).status_code == 403


@pytest.mark.parametrize("who, status", [("root", 200), ("watcher", 200), ("jilin", 403), ("nanguan", 403)])
def test_the_audit_page_is_for_admins_and_viewers(site, who, status):
    client = site(who)
    assert client.get("/audit").status_code == status
    assert client.get("/audit?page=99999999999999999999").status_code == status  # past the last page, not a 500


def test_parked_deliveries_are_replayed_from_the_page_by_who_may(api, httpserver):
    site = browsers(api)  # the subscription comes before the first cycle
    httpserver.expect_request("/county").respond_with_data("no", status=400)
    body = {"name": "county-hook", "url": httpserver.url_for("/county"), "secrets": [TEST_SECRET],
            "regions": [OWN], "events": ["tasklist.issued"]}
    assert site.api("POST", "/api/v1/subscriptions", "nanguan", json=body).status_code == 201
    run_cycle(site.rt, open_source(site.rt, "demo"))
    county = site("nanguan")
    page = county.get("/deliveries?status=parked")
    parked = re.findall(r'<tr data-status="parked"><td><code>(msg_\w+)</code>', text_of(page))
    assert parked and 'data-status="delivered"' not in text_of(page)
    assert "/replay" not in text_of(site("watcher").get("/deliveries?status=parked"))
    assert site("beijing").get("/deliveries").get_data(as_text=True).count("<code>msg_") == 0
    watcher = site("watcher")
    refused = watcher.post(f"/deliveries/{parked[0]}/replay", data={"csrf_token": csrf(watcher.get("/deliveries"))})
    assert refused.status_code == 403
    replayed = county.post(f"/deliveries/{parked[0]}/replay", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "已重新排队" in text_of(replayed)
    with site.rt.sessions() as session:
        assert session.scalars(select(OutboxMessage.status).where(OutboxMessage.message_id == parked[0])).one() == "pending"
    again = county.post(f"/deliveries/{parked[0]}/replay", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "只有搁置的消息可以重发" in text_of(again)


@pytest.mark.parametrize("who, status", [("root", 200), ("watcher", 200), ("jilin", 200), ("nanguan", 403)])
def test_progress_by_area_for_everyone_above_a_county(site, who, status):
    page = site(who).get("/progress")
    assert page.status_code == status
    if status == 200:
        rows = re.findall(r'<tr data-code="(\d{6})">', text_of(page))
        assert rows and (all(r.startswith("22") and not r.endswith("0000") for r in rows) if who == "jilin"
                         else "220000" in rows)
        counties = re.findall(r'<tr data-code="(\d{6})">', text_of(site(who).get("/progress?by=county")))
        assert OWN in counties and all(c.startswith("22") for c in counties)


CASELOAD_HEADER = ("region_code,dibao_urban,dibao_rural,tekun_urban,tekun_rural,ill_disabled,elderly_alone,orphans,"
                   "unsupported_children,rough_sleepers,dibao_standard_urban,dibao_standard_rural,"
                   "tekun_standard_urban,tekun_standard_rural\n")


def upload(client, body: str | bytes, kind: str = "caseload", confirm: bool = True):
    """Upload a file, see its preview, and confirm it (the two steps a person takes)."""
    import io
    token = csrf(client.get("/caseload"))
    content = body if isinstance(body, bytes) else body.encode("utf-8")
    preview = client.post("/caseload", data={"csrf_token": token, "kind": kind,
                                             "file": (io.BytesIO(content), "caseload.csv")},
                          content_type="multipart/form-data")
    if preview.status_code != 200 or not confirm:
        return preview
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', text_of(preview)))
    carried = re.search(r'<textarea name="content" hidden>(.*?)</textarea>', text_of(preview), re.S).group(1)
    return client.post("/caseload", data=form | {"content": html.unescape(carried)}, follow_redirects=True)


def test_caseload_upload_imports_a_good_file_and_names_each_problem_of_a_bad_one(site):
    county = site("nanguan")
    good = upload(county, CASELOAD_HEADER + f"{OWN},1,2,3,4,5,6,7,8,9,900,700,1170,910\n")
    assert good.status_code == 200 and "已导入 1 行" in text_of(good)
    with site.rt.sessions() as session:
        assert session.scalars(select(Caseload.dibao_urban).where(Caseload.region_code == OWN)).one() == 1
    bad_value = upload(county, CASELOAD_HEADER + f"{OWN},x,2,3,4,5,6,7,8,9,900,700,1170,910\n")
    assert bad_value.status_code == 422
    assert "caseload.csv, row 2, column dibao_urban: must be a whole number" in text_of(bad_value)
    foreign = upload(county, CASELOAD_HEADER + f"{OWN},5,2,3,4,5,6,7,8,9,900,700,1170,910\n"
                                               f"{FOREIGN_IN_PROVINCE},1,2,3,4,5,6,7,8,9,900,700,1170,910\n")
    assert foreign.status_code == 422
    assert f"row 3, column region_code: {FOREIGN_IN_PROVINCE} is outside your area" in text_of(foreign)
    with site.rt.sessions() as session:  # nothing of the bad file was kept
        assert session.scalars(select(Caseload.dibao_urban).where(Caseload.region_code == OWN)).one() == 1
    assert site("watcher").get("/caseload").status_code == 403


def test_every_problem_of_a_file_is_named_in_one_pass_unknown_codes_included(site):
    bad = upload(site("root"), CASELOAD_HEADER + f"{OWN},x,2,3,4,5,6,7,8,9,900,700,1170,910\n"
                                                 "229999,1,2,3,4,5,6,7,8,9,900,700,1170,910\n"
                                                 f"{OWN},1,2,3,4,-5,6,7,8,9,900,700,1170,910\n")
    assert bad.status_code == 422
    problems = re.findall(r"<li>(caseload\.csv, row \d+, column \w+: [^<]+)</li>", text_of(bad))
    assert [p.split(":")[0] for p in problems] == ["caseload.csv, row 2, column dibao_urban",
                                                   "caseload.csv, row 3, column region_code",
                                                   "caseload.csv, row 4, column ill_disabled"], problems
    assert "unknown region code 229999" in problems[1]


def test_the_template_round_trips_and_the_preview_shows_each_change_before_anything_is_stored(site):
    county = site("nanguan")
    template = county.get("/caseload/template.csv?kind=caseload")
    assert template.status_code == 200 and template.headers["Content-Disposition"].endswith("caseload-template.csv")
    text = template.get_data().decode("utf-8-sig")
    header, *rows = text.splitlines()
    assert header.startswith("区划代码,县(区)名称,城市低保人数,农村低保人数") and "城市低保标准(元/月)" in header
    assert [row.split(",")[:2] for row in rows] == [[OWN, "南关区"]]  # the county's own row, demo figures filled in
    with site.rt.sessions() as session:
        stored = session.scalars(select(Caseload).where(Caseload.region_code == OWN)).one()
    assert rows[0].split(",")[2] == str(stored.dibao_urban)

    unchanged = upload(county, template.get_data(), confirm=False)  # sent back as downloaded
    assert unchanged.status_code == 200 and "没有变化" in text_of(unchanged)
    edited = text.replace(f"{OWN},南关区,{stored.dibao_urban},", f"{OWN},南关区,{stored.dibao_urban + 40},")
    preview = upload(county, edited.encode("gb18030"), confirm=False)  # as Excel saves it on a Chinese system
    changed = re.findall(r'data-field="(\w+)">.*?<td>(\d+)</td><td><strong>(\d+)</strong>', text_of(preview), re.S)
    assert changed == [("dibao_urban", str(stored.dibao_urban), str(stored.dibao_urban + 40))]
    with site.rt.sessions() as session:  # a preview stores nothing
        assert session.get(Caseload, OWN).dibao_urban == stored.dibao_urban
    done = upload(county, edited.encode("gb18030"))
    assert "已导入 1 行" in text_of(done)
    with site.rt.sessions() as session:
        assert session.get(Caseload, OWN).dibao_urban == stored.dibao_urban + 40
    shelters = county.get("/caseload/template.csv?kind=shelters").get_data().decode("utf-8-sig")
    assert shelters.splitlines()[0] == "区划代码,县(区)名称,名称,地址,床位数"


def test_console_forms_without_the_csrf_token_are_refused(site):
    admin = site("root")
    assert admin.post("/rules/yaml", data={"text": "x", "action": "preview"}).status_code == 400
    assert admin.post("/rules", data={"section": "cold_wave", "action": "preview"}).status_code == 400
    assert admin.post("/caseload", data={"kind": "caseload"}).status_code == 400
