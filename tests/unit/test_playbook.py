"""Playbooks turn a level and stage into tasks with due times and quantities."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from triggers.playbook import parse_playbook, plan_tasks
from triggers.validation import InvalidConfig
from warning.settings import SHIPPED_CONFIG_DIR
from tests.unit.helpers import at

NOW = at("2026-01-19T00:00:00")
ONSET = at("2026-01-20T16:00:00")
CASELOAD = {"dibao_urban": 100, "dibao_rural": 50, "tekun_urban": 5, "tekun_rural": 7, "ill_disabled": 30,
            "elderly_alone": 12, "orphans": 2, "unsupported_children": 3, "rough_sleepers": 4}
SHELTERS = [{"name": "A", "address": "a", "capacity": 20}, {"name": "B", "address": "b", "capacity": 35}]


def shipped():
    return parse_playbook(yaml.safe_load((SHIPPED_CONFIG_DIR / "playbooks.yaml").read_text(encoding="utf-8")))


def plan(level, stage, **kw):
    args = dict(hazard="cold_wave", level=level, stage=stage, onset=ONSET, now=NOW, caseload=CASELOAD,
                shelters=SHELTERS) | kw
    return {t.type: t for t in plan_tasks(shipped(), **args)}


def test_higher_levels_add_tasks():
    blue, yellow, orange = plan("blue", "act"), plan("yellow", "act"), plan("orange", "act")
    assert set(blue) < set(yellow) < set(orange)
    assert {"open_shelters", "street_patrol"} <= set(yellow) - set(blue)
    assert {"institution_safety", "temporary_assistance"} == set(orange) - set(yellow)


def test_prepare_stage_asks_only_for_preparation():
    assert set(plan("orange", "prepare")) == {"early_payment", "check_supplies"}


def test_quantities_come_from_the_caseload():
    tasks = plan("orange", "act")
    assert tasks["visit_vulnerable"].quantities["people"] == 42
    assert tasks["early_payment"].quantities["people"] == 100 + 50 + 5 + 7 + 2 + 3
    assert tasks["open_shelters"].quantities["shelters"] == 2
    assert tasks["open_shelters"].quantities["capacity"] == 55
    assert "开放 2 处临时庇寒场所(共 55 个床位)" in tasks["open_shelters"].instructions["zh"]
    assert "4 rough sleepers are known" in tasks["street_patrol"].instructions["en"]


def test_due_times_are_relative_to_onset_never_in_the_past():
    tasks = plan("orange", "act")
    assert tasks["open_shelters"].due_at == ONSET - timedelta(hours=12)
    assert tasks["early_payment"].due_at == NOW  # 48 h before onset is already past: due now


def test_tasks_already_on_the_list_are_not_planned_again():
    assert "open_shelters" not in plan("orange", "act", existing_types=frozenset({"open_shelters"}))


def test_missing_caseload_shows_not_on_record():
    tasks = plan("blue", "act", caseload=None)
    assert tasks["visit_vulnerable"].quantities["people"] is None
    assert "对 — 名" in tasks["visit_vulnerable"].instructions["zh"]


def test_subsidy_amounts_are_shown_in_yuan_with_two_decimals():
    [task] = plan_tasks(shipped(), hazard="price_linkage", level="start", stage="act", onset=NOW, now=NOW,
                        caseload=CASELOAD, shelters=[], subsidy={"amount_yuan": 12345.5, "month": "2025-12",
                                                               "per_person_urban": 50.0, "per_person_rural": 35.0,
                                                               "recipients": 300})
    assert "合计 12,345.50 元" in task.instructions["zh"]
    assert task.title["en"] == "Pay the temporary price subsidy for 2025-12"


def test_unknown_placeholder_and_level_are_refused():
    data = yaml.safe_load((SHIPPED_CONFIG_DIR / "playbooks.yaml").read_text(encoding="utf-8"))
    data["tasks"][0]["title"]["zh"] = "发放 {money}"
    data["tasks"][1]["min_level"] = "purple"
    with pytest.raises(InvalidConfig) as caught:
        parse_playbook(data)
    assert any(p.startswith("playbooks.yaml: tasks.0.title.zh: Value error, unknown placeholder(s) ['money']")
               for p in caught.value.problems)
    assert any("tasks.1" in p and "min_level for cold_wave must be one of" in p for p in caught.value.problems)


def repeats(latest_due, now, ends=ONSET + timedelta(days=2)):
    from triggers.playbook import plan_repeats
    return {t.type: t for t in plan_repeats(shipped(), hazard="cold_wave", level="orange", stage="act", ends=ends,
                                            now=now, latest={"visit_vulnerable": (latest_due, 1)}, caseload=CASELOAD,
                                            shelters=SHELTERS)}


def test_a_repeating_task_comes_back_each_period_never_in_a_burst():
    first_due = ONSET - timedelta(hours=24)
    assert repeats(first_due, first_due) == {}                             # not before the last one is due
    nxt = repeats(first_due, first_due + timedelta(hours=1))["visit_vulnerable"]
    assert (nxt.instance, nxt.due_at) == (2, first_due + timedelta(hours=24))
    late = repeats(first_due, first_due + timedelta(hours=60))["visit_vulnerable"]
    assert late.due_at == first_due + timedelta(hours=72)                  # after an outage: the next boundary
    assert repeats(first_due, ONSET + timedelta(days=3)) == {}            # the hazard is over
