"""元旦 and 春节 as triggers: within notice every county gets a task to pay the month's benefits by the
Nth working day before the festival, and where its province sets a holiday subsidy (Jiangsu in the
shipped rules) a task to pay it, with quantities from the caseload; decided once. A payment task a
cold wave already opened is the one task for both, due by the earlier time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from warning.cycle import run_cycle
from warning.feeds.scenario import Scenario
from warning.manual_alerts import decide
from warning.models import Caseload, Festival, Task
from warning.sources import open_source

SPRING_FESTIVAL_PAY_BY = datetime(2026, 2, 10, 16, tzinfo=timezone.utc)  # end of 10 Feb in Beijing: 5 working days before 17 Feb
DONGCHENG, NANJING_XUANWU, NANGUAN = "110101", "320102", "220102"


def demo_on(rt, days_later: int) -> Scenario:
    """The demo (recorded on 19 Jan 2026) moved `days_later` days on."""
    recorded = open_source(rt, "demo")
    return Scenario(recorded.directory, recorded.manifest, days_later)


def tasks_of(rt, code: str) -> list[Task]:
    with rt.sessions() as session:
        return session.scalars(select(Task).where(Task.region_code == code).order_by(Task.id)).all()


@pytest.fixture
def rt(make_runtime):
    rt = make_runtime()
    open_source(rt, "demo")  # its caseload (Jilin's) goes in first
    with rt.sessions.begin() as session:  # then a Jiangsu county's
        session.add(Caseload(region_code=NANJING_XUANWU, dibao_urban=1200, dibao_rural=0, tekun_urban=80, tekun_rural=0,
                             ill_disabled=300, elderly_alone=900, orphans=20, unsupported_children=15, rough_sleepers=4,
                             dibao_standard_urban=1100, dibao_standard_rural=900, tekun_standard_urban=1430,
                             tekun_standard_rural=1170, source="test", updated_at=datetime.now(timezone.utc)))
    return rt


def test_three_weeks_before_spring_festival_every_county_is_told_to_pay_early(rt):
    before = run_cycle(rt, demo_on(rt, 7), deliver=False)  # 26 Jan: 22 days before
    assert before["festivals"]["decided"] == 0
    summary = run_cycle(rt, demo_on(rt, 8), deliver=False)  # 27 Jan: 21 days before
    assert summary["festivals"]["decided"] == sum(len(code) == 6 for code in rt.config.region_codes)  # counties pay

    [payment] = tasks_of(rt, DONGCHENG)
    assert (payment.type, payment.due_at, payment.rule) == ("early_payment", SPRING_FESTIVAL_PAY_BY, "festival/start+/act")
    assert payment.title == {"zh": "春节前发放本月救助金", "en": "Pay this month's benefits before the Spring Festival"}
    assert "春节（2026-02-17）前" in payment.instructions["zh"]

    jiangsu = {t.type: t for t in tasks_of(rt, NANJING_XUANWU)}
    assert set(jiangsu) == {"early_payment", "holiday_subsidy"}
    recipients = 1200 + 80 + 20  # 低保, 特困 and orphans (Jiangsu's groups)
    assert jiangsu["holiday_subsidy"].quantities["recipients"] == recipients
    assert jiangsu["holiday_subsidy"].quantities["amount_yuan"] == recipients * 200
    assert "每人发放 200.00 元节日补贴，合计 260,000.00 元" in jiangsu["holiday_subsidy"].instructions["zh"]
    assert jiangsu["early_payment"].quantities["people"] == 1200 + 80 + 20 + 15

    again = run_cycle(rt, demo_on(rt, 9), deliver=False)  # decided once
    assert again["festivals"]["decided"] == 0 and len(tasks_of(rt, DONGCHENG)) == 1
    with rt.sessions() as session:
        assert session.scalar(select(Festival.per_person_yuan).where(Festival.region_code == DONGCHENG)) == 0


def test_a_cold_wave_in_the_same_weeks_makes_one_payment_task_due_by_the_earlier_time(rt):
    run_cycle(rt, demo_on(rt, 8), deliver=False)  # the demo's cold wave over Jilin, and 春节 within notice
    nanguan = [t for t in tasks_of(rt, NANGUAN) if t.type == "early_payment"]
    assert len(nanguan) == 1 and nanguan[0].alert_id is not None  # the cold wave's, due before the festival's time
    assert nanguan[0].due_at < SPRING_FESTIVAL_PAY_BY

    with rt.sessions.begin() as session:  # then a cold wave where the festival's payment task is open
        decide(session, rt.config.region_codes, region_code=DONGCHENG, hazard="cold_wave", action="raise",
               level="orange", reason="省气象台寒潮橙色预警", actor="admin-li", hours=48, now=demo_on(rt, 9).now)
    run_cycle(rt, demo_on(rt, 9), deliver=False)
    dongcheng = tasks_of(rt, DONGCHENG)
    assert [t.type for t in dongcheng].count("early_payment") == 1
    assert {t.type for t in dongcheng} > {"early_payment", "check_supplies", "visit_vulnerable"}
    payment = next(t for t in dongcheng if t.type == "early_payment")
    assert payment.festival_id is not None and payment.status == "open"
