"""Reconciling new assessments with the alerts already open.

New -> issue. Level, stage or a material onset change -> update. Still firing, same state ->
keep (nothing sent). Not firing -> quiet for a cycle, resolved after enough quiet cycles in a row
(hysteresis) or once the hazard's last expected day is over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from triggers.model import Assessment, Decision, OpenAlert
from triggers.rules import ReconcilePolicy


def reconcile(open_alerts: list[OpenAlert], assessments: list[Assessment], now: datetime,
              policy: ReconcilePolicy, quiet_cycles_to_resolve: Callable[[str, str], int],
              stood_down: dict[tuple[str, str], str] | None = None) -> list[Decision]:
    """One decision per (region, hazard) that has an open alert or a new assessment.

    `quiet_cycles_to_resolve(region, hazard)`: how many quiet cycles in a row resolve an alert.
    `stood_down`: (region, hazard) an admin stood down, with the reason: resolved at once.
    """
    by_key = {(a.region_code, a.hazard): a for a in open_alerts}
    decisions = []
    for key, reason in (stood_down or {}).items():
        alert = by_key.pop(key, None)
        if alert is not None:
            decisions.append(Decision("resolve", alert.region_code, alert.hazard, alert=alert,
                                      quiet_cycles=alert.quiet_cycles, reason=reason))
    for assessment in assessments:
        alert = by_key.pop((assessment.region_code, assessment.hazard), None)
        decisions.append(firing(alert, assessment, policy))
    for alert in by_key.values():
        decisions.append(not_firing(alert, now, quiet_cycles_to_resolve(alert.region_code, alert.hazard)))
    return decisions


def firing(alert: OpenAlert | None, assessment: Assessment, policy: ReconcilePolicy) -> Decision:
    key = dict(region_code=assessment.region_code, hazard=assessment.hazard, assessment=assessment)
    if alert is None:
        return Decision("issue", **key, reason="new")
    changes = material_changes(alert, assessment, policy)
    if changes:
        return Decision("update", **key, alert=alert, reason=", ".join(changes))
    return Decision("keep", **key, alert=alert, reason="unchanged")


def material_changes(alert: OpenAlert, assessment: Assessment, policy: ReconcilePolicy) -> list[str]:
    changes = []
    if assessment.level != alert.level:
        changes.append(f"level {alert.level} -> {assessment.level}")
    if assessment.stage != alert.stage:
        changes.append(f"stage {alert.stage} -> {assessment.stage}")
    shift_h = abs((assessment.onset - alert.onset).total_seconds()) / 3600
    if shift_h >= policy.onset_change_h:
        changes.append(f"onset moved {shift_h:.0f} h")
    return changes


def not_firing(alert: OpenAlert, now: datetime, quiet_cycles_to_resolve: int) -> Decision:
    quiet = alert.quiet_cycles + 1
    key = dict(region_code=alert.region_code, hazard=alert.hazard, alert=alert, quiet_cycles=quiet)
    if now >= alert.ends:
        return Decision("resolve", **key, reason="past its end")
    if quiet >= quiet_cycles_to_resolve:
        return Decision("resolve", **key, reason=f"not firing for {quiet} cycles")
    return Decision("quiet", **key, reason=f"not firing for {quiet} cycle(s)")
