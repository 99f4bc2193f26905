"""Alert lifecycle: issue, update, keep quiet about repeats, resolve with hysteresis."""

from __future__ import annotations

from datetime import timedelta

from triggers.model import Assessment, Evidence, OpenAlert
from triggers.reconcile import reconcile
from triggers.rules import ReconcilePolicy
from tests.unit.helpers import at

NOW = at("2026-01-19T00:00:00")
ONSET = at("2026-01-20T16:00:00")
POLICY = ReconcilePolicy(onset_change_h=6)
def TWO(region, hazard):  # two quiet cycles in a row resolve
    return 2


def assessment(level="orange", stage="act", onset=ONSET) -> Assessment:
    return Assessment("220102", "cold_wave", level, stage, onset, onset + timedelta(days=1), 40.0,
                      Evidence("zh", "en"), "v1")


def open_alert(level="orange", stage="act", onset=ONSET, quiet=0, ends=None) -> OpenAlert:
    return OpenAlert(7, "220102", "cold_wave", level, stage, onset, ends or onset + timedelta(days=1), quiet)


def actions(alerts, assessments, now=NOW, quiet_to_resolve=2):
    decisions = reconcile(alerts, assessments, now, POLICY, lambda region, hazard: quiet_to_resolve)
    return [(d.action, d.quiet_cycles) for d in decisions]


def test_new_hazard_is_issued():
    assert actions([], [assessment()]) == [("issue", 0)]


def test_same_state_sends_nothing():
    decisions = reconcile([open_alert()], [assessment()], NOW, POLICY, TWO)
    assert [d.action for d in decisions] == ["keep"] and not decisions[0].sends


def test_level_change_either_way_is_an_update():
    assert actions([open_alert("yellow")], [assessment("orange")]) == [("update", 0)]
    assert actions([open_alert("orange")], [assessment("blue")]) == [("update", 0)]


def test_stage_change_is_an_update():
    assert actions([open_alert(stage="prepare")], [assessment(stage="act")]) == [("update", 0)]


def test_onset_moving_six_hours_is_material_five_is_not():
    assert actions([open_alert()], [assessment(onset=ONSET + timedelta(hours=6))]) == [("update", 0)]
    assert actions([open_alert()], [assessment(onset=ONSET - timedelta(hours=5))]) == [("keep", 0)]


def test_resolve_needs_two_quiet_cycles_in_a_row():
    assert actions([open_alert()], []) == [("quiet", 1)]
    assert actions([open_alert(quiet=1)], []) == [("resolve", 2)]


def test_firing_again_resets_the_quiet_count():
    [decision] = reconcile([open_alert(quiet=1)], [assessment()], NOW, POLICY, TWO)
    assert decision.action == "keep" and decision.quiet_cycles == 0


def test_an_alert_past_its_end_resolves_at_once():
    alert = open_alert(onset=at("2026-01-17T16:00:00"), ends=at("2026-01-18T16:00:00"))
    decisions = reconcile([alert], [], NOW, POLICY, TWO)
    assert [(d.action, d.reason) for d in decisions] == [("resolve", "past its end")]


def test_a_sequence_of_cycles():
    """yellow issued -> same -> orange -> quiet -> back (kept) -> quiet, quiet -> resolved."""
    seen, alert = [], None
    for assessed in [assessment("yellow"), assessment("yellow"), assessment("orange"), None,
                     assessment("orange"), None, None]:
        [decision] = reconcile([alert] if alert else [], [assessed] if assessed else [], NOW, POLICY,
                               TWO)
        seen.append(decision.action)
        if decision.action == "resolve":
            alert = None
        elif decision.assessment:
            a = decision.assessment
            alert = OpenAlert(1, a.region_code, a.hazard, a.level, a.stage, a.onset, a.ends, 0)
        else:
            alert = OpenAlert(1, alert.region_code, alert.hazard, alert.level, alert.stage, alert.onset,
                              alert.ends, decision.quiet_cycles)
    assert seen == ["issue", "keep", "update", "quiet", "keep", "quiet", "resolve"]
