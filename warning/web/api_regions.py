"""The API's regions, alerts (with manual raise and stand-down) and price-linkage subsidies."""

from __future__ import annotations

from flask import g
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from triggers.regioncodes import area_prefix
from triggers.rules import flatten
from warning.accounts import can_change, can_see, visible_codes
from warning.events import alert_data, iso, region_info, subsidy_data
from warning.manual_alerts import clear, decide
from warning.models import Alert, ManualAlertDecision, Subsidy
from warning.regions import has_coordinates, region_levels
from warning.web import api_models as m
from warning.web import require_region, runtime
from warning.web.api import REGION_CODE, api, paginated, paginated_list, visible_region
from warning.web.contract import endpoint


@api.get("/regions")
@endpoint("Counties the caller may see with their highest open level (null when calm or not assessed)",
          query=m.RegionQuery, answers={200: m.Page[m.ListedRegion]})
def list_regions():
    province, level = g.query.province, g.query.level
    with runtime().sessions() as session:
        levels = region_levels(session)
    rows = [r | levels.get(r["code"], {"level": None, "open_alerts": 0})
            for r in runtime().config.regions_by_code.values()
            if can_see(g.user, r["code"]) and (not province or r["province_code"] == province)]
    if level:
        rows = [r for r in rows if r["level"] == (None if level == "none" else level)]
    return paginated_list(rows, lambda r: region_info(r) | {
        "assessed": has_coordinates(r), "level": r["level"], "open_alerts": r["open_alerts"]})


@api.get("/regions/<code>")
@endpoint("A county: the thresholds that apply to it (after overrides) and its alerts, newest first",
          answers={200: m.RegionDetail}, errors=(403, 404), path={"code": REGION_CODE})
@visible_region
def region_detail(code: str):
    """A county: who it is, the thresholds that apply to it, and its alerts newest first."""
    rt = runtime()
    rt.refresh_rules()
    region = rt.config.regions_by_code[code]
    rules = rt.config.rules
    with rt.sessions() as session:
        alerts = session.scalars(select(Alert).where(Alert.region_code == code)
                                 .order_by(Alert.issued_at.desc(), Alert.id.desc()).limit(100)).all()
        history = [alert_view(a) for a in alerts]
    return region_info(region) | {"assessed": has_coordinates(region), "rule_version": rules.version,
                                  "thresholds": flatten(rules.for_chain(rules.override_chain(region))),
                                  "alerts": history}


def alert_view(alert: Alert) -> dict:
    return alert_data(alert, runtime().config.regions_by_code[alert.region_code]) | {
        "issued_at": iso(alert.issued_at), "updated_at": iso(alert.updated_at),
        "resolved_at": iso(alert.resolved_at), "resolve_reason": alert.resolve_reason}


@api.get("/alerts")
@endpoint("Alerts the caller may see, newest first", query=m.AlertQuery, answers={200: m.Page[m.AlertView]})
def list_alerts():
    query = select(Alert).where(visible_codes(g.user, Alert.region_code)).order_by(Alert.issued_at.desc(), Alert.id.desc())
    for value, column in ((g.query.status, Alert.status), (g.query.hazard, Alert.hazard), (g.query.level, Alert.level)):
        if value:
            query = query.where(column.in_(value.split(",")))
    if g.query.region:
        query = query.where(Alert.region_code.startswith(area_prefix(g.query.region)))
    with runtime().sessions() as session:
        return paginated(session, query, alert_view)


def decision_view(row: ManualAlertDecision) -> dict:
    return {"id": row.id, "region_code": row.region_code, "hazard": row.hazard, "action": row.action,
            "level": row.level, "reason": row.reason, "actor": row.actor, "created_at": iso(row.created_at),
            "expires_at": iso(row.expires_at), "cleared_at": iso(row.cleared_at), "cleared_by": row.cleared_by}


@api.get("/alerts/manual")
@endpoint("Manual raises and stand-downs not cleared, in the caller's area", query=m.Paging,
          answers={200: m.Page[m.DecisionView]})
def list_manual_decisions():
    """(The cycle judges expiry.)"""
    query = (select(ManualAlertDecision).where(ManualAlertDecision.cleared_at.is_(None),
                                               visible_codes(g.user, ManualAlertDecision.region_code))
             .order_by(ManualAlertDecision.created_at.desc()))
    with runtime().sessions() as session:
        return paginated(session, query, decision_view)


@api.post("/alerts/manual")
@endpoint("Raise an alert by hand or stand one down for some hours (audited); cycles respect it",
          body=m.ManualDecision, answers={201: m.DecisionView}, errors=(403, 404))
def manual_decision():
    body = g.body
    require_region(body.region_code)
    if not can_change(g.user, body.region_code):
        raise Forbidden(f"{g.user.name} may not decide alerts for {body.region_code}")
    with runtime().sessions.begin() as session:
        row = decide(session, runtime().config.region_codes, region_code=body.region_code, hazard=body.hazard,
                     action=body.action, level=getattr(body, "level", None), reason=body.reason,
                     actor=g.user.name, hours=body.hours)
        return decision_view(row), 201


@api.delete("/alerts/manual/<int(max=2147483647):decision_id>")
@endpoint("Clear a manual decision; the forecast decides again from the next cycle", answers={200: m.DecisionView},
          errors=(403, 404))
def clear_manual_decision(decision_id: int):
    with runtime().sessions.begin() as session:
        row = session.get(ManualAlertDecision, decision_id)
        if row is None or not can_see(g.user, row.region_code):
            raise NotFound(f"no decision {decision_id}")
        if not can_change(g.user, row.region_code):
            raise Forbidden(f"{g.user.name} may not decide alerts for {row.region_code}")
        return decision_view(clear(session, decision_id, g.user.name))


@api.get("/subsidies")
@endpoint("Price-linkage decisions (one per county and month) the caller may see", query=m.SubsidyQuery,
          answers={200: m.Page[m.SubsidyView]})
def list_subsidies():
    query = (select(Subsidy).where(visible_codes(g.user, Subsidy.region_code))
             .order_by(Subsidy.month.desc(), Subsidy.region_code))
    if g.query.month:
        query = query.where(Subsidy.month == g.query.month)
    if g.query.region:
        query = query.where(Subsidy.region_code.startswith(area_prefix(g.query.region)))
    if g.query.started is not None:
        query = query.where(Subsidy.started.is_(g.query.started))
    regions = runtime().config.regions_by_code
    with runtime().sessions() as session:
        return paginated(session, query, lambda s: subsidy_data(s, regions[s.region_code]) | {
            "started": s.started, "decided_at": iso(s.decided_at)})
