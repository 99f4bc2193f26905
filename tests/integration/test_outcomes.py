"""Outcome figures: reported for a task through the API and as a chat reply, validated (whole numbers
from 0, the task's own measures), implausible ones flagged but kept, every report audited; and rolled
up by county, prefecture, province and nation for a period and a campaign, checked against sums
worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from sqlalchemy import delete

from warning.cycle import run_cycle
from warning.models import AuditEntry, Caseload, OutcomeReport, Task
from warning.outcomes import Period, rollup
from warning.sources import open_source

OWN, FOREIGN = "220102", "220802"  # nanguan's county (南关区, 长春市), and 洮北区 (白城市)


@pytest.fixture
def demo(api):
    """The demo's tasks, without the figures the demo itself reports: each test starts from none."""
    run_cycle(api.rt, open_source(api.rt, "demo"), deliver=False)
    with api.rt.sessions.begin() as session:
        assert session.execute(delete(OutcomeReport)).rowcount > 0
        session.execute(delete(AuditEntry).where(AuditEntry.action == "task.outcomes"))
    return api


def task_of(rt, code: str, task_type: str) -> int:
    with rt.sessions() as session:
        return session.scalars(select(Task.id).where(Task.region_code == code, Task.type == task_type)
                               .order_by(Task.id)).first()


def report(api, who: str, task_id: int, **figures):
    return api("POST", f"/api/v1/tasks/{task_id}/outcomes", who, json={"figures": figures})


def test_a_county_reports_running_totals_and_each_report_is_audited(demo):
    patrol = task_of(demo.rt, OWN, "street_patrol")
    listed = demo("GET", f"/api/v1/tasks/{patrol}/outcomes", "nanguan").json
    assert [m["key"] for m in listed["measures"]] == ["patrols", "people_helped", "persuaded_in", "items_given",
                                                       "quilts_given"]
    assert listed["measures"][0] == {"key": "patrols", "name": {"zh": "街面巡查", "en": "street patrols"},
                                     "unit": {"zh": "次", "en": "patrols"}} and listed["figures"] == {}

    first = report(demo, "nanguan", patrol, patrols=3, people_helped=11)
    assert first.status_code == 200
    assert first.json["said"]["zh"] == "已记录任务 %d：街面巡查 3 次，街面救助 11 人次" % patrol
    later = report(demo, "nanguan", patrol, patrols=5, people_helped=11, quilts_given=4).json
    assert later["figures"] == {"patrols": 5, "people_helped": 11, "quilts_given": 4}
    assert later["changed"] == ["patrols", "quilts_given"]  # an unchanged total is not stored again
    assert demo("GET", f"/api/v1/tasks/{patrol}/outcomes", "jilin").json["figures"] == later["figures"]
    with demo.rt.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "task.outcomes")
                                  .order_by(AuditEntry.id)).all()
        stored = session.scalars(select(OutcomeReport).where(OutcomeReport.task_id == patrol)).all()
    assert [(e.actor, e.target, e.before, e.after) for e in entries] == [
        ("nanguan", f"task:{patrol}", {"patrols": None, "people_helped": None}, {"patrols": 3, "people_helped": 11}),
        ("nanguan", f"task:{patrol}", {"patrols": 3, "quilts_given": None}, {"patrols": 5, "quilts_given": 4})]
    assert len(stored) == 4 and {r.via for r in stored} == {"api"}


@pytest.mark.parametrize("figures, field", [
    ({"patrols": -1}, "figures.patrols"),
    ({"patrols": 2.5}, "figures.patrols"),
    ({"patrols": "12"}, "figures.patrols"),
    ({"patrols": True}, "figures.patrols"),
    ({"yuan_paid": 100}, "figures.yuan_paid"),  # not a measure of a patrol
    ({"no_such": 1}, "figures.no_such"),
    ({}, "figures"),
])
def test_a_figure_that_cannot_be_taken_is_refused_naming_it_and_nothing_is_stored(demo, figures, field):
    patrol = task_of(demo.rt, OWN, "street_patrol")
    answer = demo("POST", f"/api/v1/tasks/{patrol}/outcomes", "nanguan", json={"figures": figures})
    assert answer.status_code == 422
    assert any(e["field"].startswith(field) for e in answer.json["errors"]), answer.json
    with demo.rt.sessions() as session:
        assert session.scalars(select(OutcomeReport)).first() is None


@pytest.mark.parametrize("who, status", [("nanguan", 200), ("jilin", 200), ("root", 200), ("watcher", 403),
                                         ("beijing", 404)])
def test_only_those_who_may_change_a_task_report_its_figures(demo, who, status):
    assert report(demo, who, task_of(demo.rt, OWN, "street_patrol"), patrols=1).status_code == status


def test_implausible_figures_are_kept_and_flagged_for_review(demo):
    with demo.rt.sessions.begin() as session:
        session.execute(update(Caseload).where(Caseload.region_code == OWN).values(
            dibao_urban=100, dibao_rural=0, tekun_urban=10, tekun_rural=0, orphans=2, unsupported_children=0))
    payment = task_of(demo.rt, OWN, "early_payment")
    answer = report(demo, "nanguan", payment, people_paid=500, yuan_paid=400000).json
    assert answer["reviews"] == {"people_paid": {"kind": "above_caseload", "limit": 168}}  # 1.5 × 112 on the rolls
    assert "高于名册可能的 168，已记录，待核" in answer["said"]["zh"]
    lowered = report(demo, "nanguan", payment, people_paid=110).json
    assert lowered["figures"]["people_paid"] == 110
    assert lowered["reviews"] == {"people_paid": {"kind": "lower_than_before", "limit": 500}}
    with demo.rt.sessions() as session:
        reviews = session.scalars(select(OutcomeReport.review).where(OutcomeReport.task_id == payment)
                                  .order_by(OutcomeReport.id)).all()
    assert reviews == ["above_caseload:168", None, "lower_than_before:500"]
    from tests.integration.test_console_pages import browsers, text_of
    page = text_of(browsers(demo)("jilin").get("/report"))  # reported just now: within the last 7 days
    listed = page[page.index('class="reviews"'):]
    assert listed.count(f'data-task="{payment}"') == 2
    assert "高于名册可能的 168" in listed and "低于此前报送的 500（按更正记录）" in listed


def test_a_chat_reply_reports_the_same_figures(demo):
    patrol = task_of(demo.rt, OWN, "street_patrol")
    answer = demo("POST", "/api/v1/outcomes/reply", "nanguan", json={"text": f"任务 {patrol} 巡查12次，救助30人次，棉被5床"})
    assert answer.status_code == 200 and answer.json["figures"] == {"patrols": 12, "people_helped": 30, "quilts_given": 5}
    english = demo("POST", "/api/v1/outcomes/reply", "nanguan", json={"text": f"task {patrol} patrols 14, persuaded 2"})
    assert english.json["changed"] == ["patrols", "persuaded_in"]
    with demo.rt.sessions() as session:
        assert set(session.scalars(select(OutcomeReport.via))) == {"reply"}
    unreadable = demo("POST", "/api/v1/outcomes/reply", "nanguan", json={"text": f"任务 {patrol} 巡查 12 飞行 3"})
    assert unreadable.status_code == 422 and "“飞行” is not a measure" in unreadable.json["errors"][0]["message"]
    foreign = task_of(demo.rt, FOREIGN, "street_patrol")
    assert demo("POST", "/api/v1/outcomes/reply", "nanguan", json={"text": f"任务 {foreign} 巡查 1"}).status_code == 404


def test_roll_ups_match_sums_worked_by_hand(demo):
    """Three tasks in two prefectures of Jilin, reported over three Beijing days (reports moved back
    in time as if made then): the period counts what the totals grew by within it."""
    rt = demo.rt
    own_patrol, own_visit = task_of(rt, OWN, "street_patrol"), task_of(rt, OWN, "visit_vulnerable")
    foreign_patrol = task_of(rt, FOREIGN, "street_patrol")
    day = date(2026, 12, 1)

    def on(day_index: int, task_id: int, **figures):
        with rt.sessions() as session:
            before = session.scalar(select(func.max(OutcomeReport.id))) or 0
        assert report(demo, "root", task_id, **figures).status_code == 200
        noon = datetime(2026, 12, 1, 4, tzinfo=timezone.utc) + timedelta(days=day_index)  # 12:00 in Beijing
        with rt.sessions.begin() as session:
            session.execute(update(OutcomeReport).where(OutcomeReport.id > before).values(reported_at=noon))

    on(0, own_patrol, patrols=3, people_helped=10)        # 1 Dec
    on(1, own_patrol, patrols=7, people_helped=10)        # 2 Dec: +4 patrols
    on(1, foreign_patrol, patrols=2)                      # 2 Dec
    on(2, own_visit, people_visited=40)                   # 3 Dec
    on(2, foreign_patrol, patrols=5)                      # 3 Dec: +3

    with rt.sessions() as session:
        def figures(level, start, until, since=None, within=None):
            rows = rollup(session, rt.config, level, Period(start, until, since), within)
            return {(r["area"], r["measure"]): (r["period"], r["campaign"], r["counties_reported"]) for r in rows}

        assert figures("county", day + timedelta(1), day + timedelta(2), since=day) == {
            (OWN, "patrols"): (4, 7, 1), (OWN, "people_helped"): (0, 10, 1), (OWN, "people_visited"): (40, 40, 1),
            (FOREIGN, "patrols"): (5, 5, 1)}
        assert figures("province", day + timedelta(1), day + timedelta(1), since=day) == {
            ("220000", "patrols"): (4 + 2, 7 + 2, 2), ("220000", "people_helped"): (0, 10, 2)}
        assert figures("prefecture", day, day + timedelta(2)) == {
            ("220100", "patrols"): (7, 7, 1), ("220100", "people_helped"): (10, 10, 1),
            ("220100", "people_visited"): (40, 40, 1), ("220800", "patrols"): (5, 5, 1)}
        assert figures("nation", day + timedelta(2), day + timedelta(2), since=day)[("000000", "patrols")] == (3, 12, 2)
        assert figures("nation", day, day + timedelta(2), within="2201") == {
            ("000000", "patrols"): (7, 7, 1), ("000000", "people_helped"): (10, 10, 1),
            ("000000", "people_visited"): (40, 40, 1)}
    api_rows = demo("GET", "/api/v1/reports/outcomes?by=prefecture&start=2026-12-01&until=2026-12-03", "nanguan").json
    assert {(r["area"], r["measure"]): r["period"] for r in api_rows["items"]} == {
        ("220100", "patrols"): 7, ("220100", "people_helped"): 10, ("220100", "people_visited"): 40}  # own county only


def test_a_county_officer_reports_figures_on_the_county_page(demo):
    import re
    from tests.integration.test_console_pages import browsers, csrf, text_of
    officer = browsers(demo)("nanguan")
    patrol = task_of(demo.rt, OWN, "street_patrol")
    page = officer.get(f"/regions/{OWN}")
    card = text_of(page)[text_of(page).index(f'id="task-{patrol}"'):]
    assert 'name="m.patrols"' in card.split('class="task"')[0]
    done = officer.post(f"/tasks/{patrol}/outcomes", data={"csrf_token": csrf(page), "m.patrols": "4", "m.quilts_given": " 2 ",
                                                           "m.people_helped": ""}, follow_redirects=True)
    card = text_of(done)[text_of(done).index(f'id="task-{patrol}"'):].split('class="task"')[0]
    assert "已记录任务 %d：街面巡查 4 次，发放棉被 2 床" % patrol in card
    assert re.search(r'name="m\.patrols" value="4"', card)
    typo = officer.post(f"/tasks/{patrol}/outcomes", data={"csrf_token": csrf(page), "m.patrols": "四"},
                        follow_redirects=True)
    card = text_of(typo)[text_of(typo).index(f'id="task-{patrol}"'):].split('class="task"')[0]
    assert 'role="alert">请填写从 0 起的整数：街面巡查' in card
    with demo.rt.sessions() as session:
        assert [(r.measure, r.value, r.via) for r in session.scalars(select(OutcomeReport).order_by(OutcomeReport.id))] == [
            ("patrols", 4, "console"), ("quilts_given", 2, "console")]
    viewer = browsers(demo)("watcher")
    assert viewer.post(f"/tasks/{patrol}/outcomes", data={"csrf_token": csrf(viewer.get("/")), "m.patrols": "9"}).status_code == 403


def reported_at(rt, moment: datetime, api, who: str, task_id: int, **figures) -> None:
    """Report through the API, then date the report as if made at `moment`."""
    with rt.sessions() as session:
        before = session.scalar(select(func.max(OutcomeReport.id))) or 0
    assert report(api, who, task_id, **figures).status_code == 200
    with rt.sessions.begin() as session:
        session.execute(update(OutcomeReport).where(OutcomeReport.id > before).values(reported_at=moment))


def test_the_report_text_and_workbook_for_a_known_set_of_figures(demo):
    import io

    from openpyxl import load_workbook

    from warning.report import report_model, report_text, report_workbook
    rt = demo.rt
    nov, dec = datetime(2026, 11, 20, 4, tzinfo=timezone.utc), datetime(2026, 12, 2, 4, tzinfo=timezone.utc)
    reported_at(rt, nov, demo, "root", task_of(rt, OWN, "street_patrol"), patrols=5000, people_helped=370)
    reported_at(rt, dec, demo, "root", task_of(rt, OWN, "street_patrol"), patrols=15000, people_helped=4370, quilts_given=1900)
    reported_at(rt, dec, demo, "root", task_of(rt, FOREIGN, "early_payment"), yuan_paid=32_540_000)
    with rt.sessions() as session:
        zh = report_model(session, rt.config, "220000", date(2026, 12, 1), date(2026, 12, 7), "zh")
        en = report_model(session, rt.config, "220000", date(2026, 12, 1), date(2026, 12, 7), "en")
    assert report_text(zh) == (
        "【寒冬送温暖专项行动工作进展】吉林省12月1日至12月7日，街面巡查1万次，街面救助4000人次，发放棉被1900床，"
        "发放金额3254万元。寒冬送温暖专项行动开展以来（11月15日起），累计街面巡查1.5万次，街面救助4370人次，"
        "发放棉被1900床，发放金额3254万元。本期共有2个县（市、区）报送数据。\n"
        "长春市：街面巡查1万次，街面救助4000人次，发放棉被1900床。\n"
        "白城市：发放金额3254万元。\n")
    assert report_text(en).startswith(
        "[Warmth in Winter campaign: progress] 吉林省, 1 Dec to 7 Dec: street patrols 10,000, people helped on the "
        "street 4,000, quilts given 1,900, amount paid 32,540,000. Since the campaign began on 15 Nov:")
    sheet = load_workbook(io.BytesIO(report_workbook(zh))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert sheet["A1"].value == "吉林省寒冬送温暖专项行动工作量统计表"
    assert sheet["A2"].value == "统计时段：2026-12-01 至 2026-12-07；累计自 2026-11-15 起"
    assert rows[0] == ["单位", "指标", "计量单位", "本期", "累计", "报送县数"]
    assert rows[1:] == [["合计：吉林省", "街面巡查", "次", 10000, 15000, 2],
                        ["合计：吉林省", "街面救助", "人次", 4000, 4370, 2],
                        ["合计：吉林省", "发放棉被", "床", 1900, 1900, 2],
                        ["合计：吉林省", "发放金额", "元", 32540000, 32540000, 2],
                        ["长春市", "街面巡查", "次", 10000, 15000, 1],
                        ["长春市", "街面救助", "人次", 4000, 4370, 1],
                        ["长春市", "发放棉被", "床", 1900, 1900, 1],
                        ["白城市", "发放金额", "元", 32540000, 32540000, 1]]


def test_the_report_page_shows_the_figures_a_chart_and_offers_the_workbook(demo):
    import io
    import re

    from openpyxl import load_workbook

    from tests.integration.test_console_pages import browsers, text_of
    rt = demo.rt
    reported_at(rt, datetime(2026, 12, 2, 4, tzinfo=timezone.utc), demo, "root", task_of(rt, OWN, "street_patrol"),
                patrols=12, people_helped=30)
    reported_at(rt, datetime(2026, 12, 3, 4, tzinfo=timezone.utc), demo, "root", task_of(rt, FOREIGN, "street_patrol"),
                patrols=5)
    query = "start=2026-12-01&until=2026-12-07"
    page = text_of(browsers(demo)("jilin").get(f"/report?{query}"))
    assert "吉林省12月1日至12月7日，街面巡查17次，街面救助30人次。" in page
    assert re.search(r'data-area="220000" data-measure="patrols">.*?<td>17</td>', page, re.S)
    assert dict(re.findall(r'data-day="(2026-12-0\d)" data-value="(\d+)"', page)) == {
        "2026-12-01": "0", "2026-12-02": "12", "2026-12-03": "5", "2026-12-04": "0", "2026-12-05": "0",
        "2026-12-06": "0", "2026-12-07": "0"}
    county = text_of(browsers(demo)("nanguan").get(f"/report?{query}&area=220802"))  # not theirs: their own shown
    assert "没有这个地区或无权查看" in county and "南关区12月1日至12月7日，街面巡查12次" in county
    english = browsers(demo)("root")
    english.get("/?lang=en")
    workbook = english.get(f"/report.xlsx?area=220000&{query}")
    assert workbook.content_type.startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert [c.value for c in sheet[4]] == ["Area", "Measure", "Unit", "This period", "Cumulative", "Counties reporting"]
    assert [c.value for c in sheet[5]][:5] == ["Total: 吉林省", "street patrols", "patrols", 17, 17]
