"""The API's regions, alerts (with manual raise and stand-down) and price-linkage subsidies."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from triggers.levels import COLOUR_LEVELS
from triggers.rules import flatten
from triggers.validation import InvalidConfig
from warning.accounts import can_change, can_see, visible_codes
from triggers.regioncodes import area_prefix, is_region_code
from warning.events import alert_data, iso, region_info, subsidy_data
from warning.manual_alerts import clear, decide
from warning.models import Alert, ManualAlertDecision, Subsidy
from warning.regions import has_coordinates, region_levels
from warning.web import require_region, runtime
from warning.web.api import api, authenticated, json_body, paginated, paginated_list, visible_region


@api.get("/regions")
@authenticated
def list_regions():
    """Counties the caller may see, with their current level; ?province=220000 &level=orange|none."""
    province, level = request.args.get("province", ""), request.args.get("level", "")
    if level and level not in (*COLOUR_LEVELS, "none"):
        raise InvalidConfig([f"level: one of {', '.join(COLOUR_LEVELS)} or none"])
    with runtime().sessions() as session:
        levels = region_levels(session)
    rows = [r | levels.get(r["code"], {"level": None, "open_alerts": 0})
            for r in runtime().config.regions_by_code.values()
            if can_see(g.user, r["code"]) and (not province or r["province_code"] == province)]
    if level:
        rows = [r for r in rows if r["level"] == (None if level == "none" else level)]
    return jsonify(paginated_list(rows, lambda r: region_info(r) | {
        "assessed": has_coordinates(r), "level": r["level"], "open_alerts": r["open_alerts"]}))


@api.get("/regions/<code>")
@authenticated
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
    return jsonify(region_info(region) | {"assessed": has_coordinates(region),
                                          "rule_version": rules.version,
                                          "thresholds": flatten(rules.for_chain(rules.override_chain(region))),
                                          "alerts": history})


def alert_view(alert: Alert) -> dict:
    return alert_data(alert, runtime().config.regions_by_code[alert.region_code]) | {
        "issued_at": iso(alert.issued_at), "updated_at": iso(alert.updated_at),
        "resolved_at": iso(alert.resolved_at), "resolve_reason": alert.resolve_reason}


@api.get("/alerts")
@authenticated
def list_alerts():
    """Alerts the caller may see, newest first: ?status=open|resolved &hazard= &level= &region= (a county,
    prefecture xxxx00 or province xx0000)."""
    query = select(Alert).where(visible_codes(g.user, Alert.region_code)).order_by(Alert.issued_at.desc(), Alert.id.desc())
    for field, column in (("status", Alert.status), ("hazard", Alert.hazard), ("level", Alert.level)):
        if request.args.get(field):
            query = query.where(column.in_(request.args[field].split(",")))
    if request.args.get("region"):
        query = query.where(Alert.region_code.startswith(area_of(request.args["region"])))
    with runtime().sessions() as session:
        return jsonify(paginated(session, query, alert_view))


def area_of(code: str) -> str:
    """The `region` filter: a township, county, prefecture or province code, as the prefix its regions share."""
    if not is_region_code(code):
        raise InvalidConfig(["region: a six-digit area code or a nine-digit township code"])
    return area_prefix(code)


def decision_view(row: ManualAlertDecision) -> dict:
    return {"id": row.id, "region_code": row.region_code, "hazard": row.hazard, "action": row.action,
            "level": row.level, "reason": row.reason, "actor": row.actor, "created_at": iso(row.created_at),
            "expires_at": iso(row.expires_at), "cleared_at": iso(row.cleared_at), "cleared_by": row.cleared_by}


@api.get("/alerts/manual")
@authenticated
def list_manual_decisions():
    """Manual raises and stand-downs not cleared, in the caller's area (the cycle judges expiry)."""
    query = (select(ManualAlertDecision).where(ManualAlertDecision.cleared_at.is_(None),
                                               visible_codes(g.user, ManualAlertDecision.region_code))
             .order_by(ManualAlertDecision.created_at.desc()))
    with runtime().sessions() as session:
        return jsonify(paginated(session, query, decision_view))


@api.post("/alerts/manual")
@authenticated
def manual_decision():
    """Raise an alert by hand or stand one down, for `hours`; the next cycle acts on it."""
    body = json_body()
    code = str(body.get("region_code", ""))
    require_region(code)
    if not can_change(g.user, code):
        raise Forbidden(f"{g.user.name} may not decide alerts for {code}")
    try:
        hours = float(body.get("hours", 24))
    except (TypeError, ValueError):
        raise InvalidConfig(["hours: a number of hours"]) from None
    action = body.get("action")
    if action not in ("raise", "stand_down"):
        raise InvalidConfig(["action: raise or stand_down"])
    with runtime().sessions.begin() as session:
        row = decide(session, runtime().config.region_codes, region_code=code, hazard=str(body.get("hazard", "")),
                     action=action, level=body.get("level"), reason=str(body.get("reason", "")),
                     actor=g.user.name, hours=hours)
        return jsonify(decision_view(row)), 201


@api.delete("/alerts/manual/<int(max=2147483647):decision_id>")
@authenticated
def clear_manual_decision(decision_id: int):
    with runtime().sessions.begin() as session:
        row = session.get(ManualAlertDecision, decision_id)
        if row is None or not can_see(g.user, row.region_code):
            raise NotFound(f"no decision {decision_id}")
        if not can_change(g.user, row.region_code):
            raise Forbidden(f"{g.user.name} may not decide alerts for {row.region_code}")
        return jsonify(decision_view(clear(session, decision_id, g.user.name)))


@api.get("/subsidies")
@authenticated
def list_subsidies():
    """Price-linkage decisions the caller may see: ?month=2026-01 &region= &started=true|false."""
    query = (select(Subsidy).where(visible_codes(g.user, Subsidy.region_code))
             .order_by(Subsidy.month.desc(), Subsidy.region_code))
    if request.args.get("month"):
        query = query.where(Subsidy.month == request.args["month"])
    if request.args.get("region"):
        query = query.where(Subsidy.region_code.startswith(area_of(request.args["region"])))
    started = request.args.get("started")
    if started not in (None, "", "true", "false"):
        raise InvalidConfig(["started: true or false"])
    if started:
        query = query.where(Subsidy.started.is_(started == "true"))
    regions = runtime().config.regions_by_code
    with runtime().sessions() as session:
        return jsonify(paginated(session, query, lambda s: subsidy_data(s, regions[s.region_code]) | {
            "started": s.started, "decided_at": iso(s.decided_at)}))
