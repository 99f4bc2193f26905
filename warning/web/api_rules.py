"""The API's threshold rules (read, validate, preview, change) and the audit log."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from triggers.validation import InvalidConfig
from warning.events import iso
from warning.models import AuditEntry, RuleVersion
from warning.preview import preview_rules
from warning.rule_versions import check_edited_rules, install_rules
from warning.web import rules_in_force_text, runtime
from warning.web.api import api, authenticated, json_body, paginated

MAX_RULES_TEXT = 200_000


def require_admin(what: str) -> None:
    if g.user.role != "admin":
        raise Forbidden(f"only admins may {what}")


def sent_rules_text(body: dict) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidConfig(["text: the rules as YAML text"])
    if len(text) > MAX_RULES_TEXT:
        raise InvalidConfig([f"text: at most {MAX_RULES_TEXT} characters"])
    return text


@api.get("/rules")
@authenticated
def current_rules():
    text, rules = rules_in_force_text(), runtime().config.rules
    return jsonify({"version": rules.version, "text": text, "content": rules.content})


@api.post("/rules/validate")
@authenticated
def validate_rules():
    """Check rules YAML as a cycle would; 422 lists every problem with its field."""
    rules = check_edited_rules(runtime().config, sent_rules_text(json_body()))
    return jsonify({"valid": True, "version": rules.version})


@api.post("/rules/preview")
@authenticated
def preview():
    """Which alerts the edited rules would have raised over the last `days` of stored forecasts,
    compared with the rules in force."""
    require_admin("preview rule changes")
    body = json_body()
    rt = runtime()
    rt.refresh_rules()
    edited = check_edited_rules(runtime().config, sent_rules_text(body))
    try:
        days = int(body.get("days", 7))
    except (TypeError, ValueError):
        raise InvalidConfig(["days: a whole number of days"]) from None
    with rt.sessions() as session:
        return jsonify(preview_rules(session, rt.config, edited, days))


@api.put("/rules")
@authenticated
def change_rules():
    """Put new rules in force from the next cycle, recorded with who and why."""
    require_admin("change the rules")
    body = json_body()
    rt = runtime()
    text = sent_rules_text(body)
    rules = check_edited_rules(rt.config, text)
    with rt.sessions.begin() as session:
        install_rules(session, rt.config, rules, text, g.user.name, str(body.get("reason", "")))
    rt.refresh_rules()
    return jsonify({"version": rules.version, "in_force_from": "the next cycle"})


@api.get("/rules/versions")
@authenticated
def rule_versions():
    query = select(RuleVersion).order_by(RuleVersion.id.desc())
    with runtime().sessions() as session:
        return jsonify(paginated(session, query, lambda v: {
            "version": v.version, "actor": v.actor, "reason": v.reason, "created_at": iso(v.created_at)}))


def audit_view(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": iso(entry.at), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "reason": entry.reason, "before": entry.before, "after": entry.after}


def audit_query():
    """Newest first; ?actor= &action= (a prefix such as rules. or alert.)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if request.args.get("actor"):
        query = query.where(AuditEntry.actor == request.args["actor"])
    if request.args.get("action"):
        query = query.where(AuditEntry.action.startswith(request.args["action"]))
    return query


@api.get("/audit")
@authenticated
def audit_log():
    """Admins and viewers: the audit log spans every area, so it is not shown to area users."""
    if g.user.role not in ("admin", "viewer"):
        raise Forbidden("the audit log spans every area: admins and viewers only")
    with runtime().sessions() as session:
        return jsonify(paginated(session, audit_query(), audit_view))
