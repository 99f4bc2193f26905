"""The demo scenario's ensemble and history (synthetic, made by scripts/make_demo_scenario.py): its
cycle records the members' shares, shown on a county page, and its five earlier cycles give the
verification page real numbers; the history is recorded once however often the demo runs."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from warning.cycle import run_cycle
from warning.models import DayRecordRow
from warning.sources import open_source
from warning.verification import Query, verification
from tests.conftest import log_in

WITH_ENSEMBLE, WITHOUT = "220102", "220802"  # 南关区 (first batch: the demo's ensemble), 洮北区 (second)


def test_the_demo_shows_probabilities_and_scores_its_history(api):
    rt = api.rt
    for _ in range(2):
        run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DayRecordRow)) == 5 + 2  # history once, each cycle
        report = verification(session, Query(by=()))
    assert report["cycles"] == 6  # the two cycles on one clock count once
    blue = next(r for r in report["contingency"]
                if (r["source"], r["hazard"], r["level"]) == ("deterministic", "cold_wave", "blue"))
    assert blue["hits"] > 0 and blue["pod"] > 0
    assert {r["source"] for r in report["contingency"]} == {"deterministic", "ensemble_prepare", "ensemble_act"}
    assert report["reliability"] and report["brier"]

    log_in(api.client, "root")
    page = api.client.get(f"/regions/{WITH_ENSEMBLE}").get_data(as_text=True)
    table = re.search(r'<table class="probabilities" id="probabilities">.*?</table>', page, re.S).group(0)
    shares = [int(p) for p in re.findall(r'data-pct="(\d+)"', table)]
    assert "共 10 个成员" in page and shares and all(0 <= p <= 100 for p in shares) and any(0 < p < 100 for p in shares)
    cells = re.findall(r'<td(?: class="stage-(\w+)")? data-pct="(\d+)"', table)
    days = re.findall(r"<th>(\d\d-\d\d)</th>", table)
    for index, (stage, pct) in enumerate(cells):  # prepare 40 % within 120 h, act 70 % within 48 h
        ahead = index % len(days)  # (the clock is 08:00: day n starts 24 n - 8 hours ahead)
        assert stage == ("act" if int(pct) >= 70 and 24 * ahead - 8 <= 48 else
                         "prepare" if int(pct) >= 40 and 24 * ahead - 8 <= 120 else ""), (index, stage, pct)
    assert "持续低温" not in table  # off in Jilin (the rule is local): no shares shown for it
    assert 'id="probabilities"' not in api.client.get(f"/regions/{WITHOUT}").get_data(as_text=True)
    scored = api.client.get("/verification").get_data(as_text=True)
    assert '<strong id="cycle-count">6</strong>' in scored and 'id="reliability-chart"' in scored
