"""Manual raise and stand-down, as the reconciliation sees them."""

from __future__ import annotations

from datetime import timedelta

from triggers.manual import ManualDecision, apply_manual
from triggers.reconcile import reconcile
from triggers.rules import ReconcilePolicy
from tests.unit.test_reconcile import NOW, ONSET, TWO, assessment, open_alert

LATER = NOW + timedelta(hours=24)


def manual(action, level=None, expires=LATER):
    return ManualDecision("220102", "cold_wave", action, level, "hospital heating failed", "admin-li", expires)


def decide(assessments, decisions, alerts=(), now=NOW):
    adjusted, stood_down = apply_manual(assessments, decisions, now, "v1")
    return reconcile(list(alerts), adjusted, now, ReconcilePolicy(), TWO, stood_down)


def test_a_raise_issues_an_alert_the_forecast_does_not_call_for():
    [decision] = decide([], [manual("raise", "orange")])
    assert (decision.action, decision.assessment.level, decision.assessment.stage) == ("issue", "orange", "act")
    assert "raised to orange by admin-li: hospital heating failed" in decision.assessment.evidence.en


def test_a_raise_lifts_a_lower_assessment_and_leaves_a_higher_one():
    [lifted] = decide([assessment("blue")], [manual("raise", "orange")])
    assert lifted.assessment.level == "orange" and lifted.assessment.onset == ONSET
    [kept] = decide([assessment("red")], [manual("raise", "orange")])
    assert kept.assessment.level == "red" and "raised" not in kept.assessment.evidence.en


def test_a_stand_down_resolves_at_once_and_keeps_quiet_while_it_holds():
    [decision] = decide([assessment("orange")], [manual("stand_down")], alerts=[open_alert("orange")])
    assert (decision.action, decision.reason) == ("resolve", "stood down by admin-li: hospital heating failed")
    assert decide([assessment("orange")], [manual("stand_down")]) == []  # no alert, nothing issued


def test_an_expired_decision_no_longer_counts():
    expired = manual("stand_down", expires=NOW - timedelta(minutes=1))
    [decision] = decide([assessment("orange")], [expired])
    assert decision.action == "issue"
    assert decide([], [manual("raise", "red", expires=NOW)]) == []
