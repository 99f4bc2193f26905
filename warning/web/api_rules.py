"""The API's threshold rules (read, validate, preview, change) and the audit log."""

from __future__ import annotations

from flask import g
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from warning.events import iso
from warning.models import AuditEntry, RuleVersion
from warning.preview import preview_rules
from warning.rule_versions import check_edited_rules, install_rules
from warning.web import api_models as m
from warning.web import rules_in_force_text, runtime
from warning.web.api import api, paginated
from warning.web.contract import endpoint


def require_admin(what: str) -> None:
    if g.user.role != "admin":
        raise Forbidden(f"only admins may {what}")


@api.get("/rules")
@endpoint("The threshold rules in force: version, YAML text as written, parsed content",
          answers={200: m.RulesView})
def current_rules():
    text, rules = rules_in_force_text(), runtime().config.rules
    return {"version": rules.version, "text": text, "content": rules.content}


@api.post("/rules/validate")
@endpoint("Check rules YAML as a cycle would; 422 names every problem by rule key", body=m.RulesText,
          answers={200: m.RulesValid})
def validate_rules():
    rules = check_edited_rules(runtime().config, g.body.text)
    return {"valid": True, "version": rules.version}


@api.post("/rules/preview")
@endpoint("Admins: the alerts edited rules would have raised over the last days of stored forecasts, "
          "compared with the rules in force", body=m.RulesPreviewRequest, answers={200: m.Preview}, errors=(403,))
def preview():
    require_admin("preview rule changes")
    rt = runtime()
    rt.refresh_rules()
    edited = check_edited_rules(rt.config, g.body.text)
    with rt.sessions() as session:
        return preview_rules(session, rt.config, edited, g.body.days)


@api.put("/rules")
@endpoint("Admins: put new rules in force from the next cycle, with a reason (versioned, audited)",
          body=m.RulesChange, answers={200: m.RulesInForce}, errors=(403,))
def change_rules():
    require_admin("change the rules")
    rt = runtime()
    rules = check_edited_rules(rt.config, g.body.text)
    with rt.sessions.begin() as session:
        install_rules(session, rt.config, rules, g.body.text, g.user.name, g.body.reason)
    rt.refresh_rules()
    return {"version": rules.version, "in_force_from": "the next cycle"}


@api.get("/rules/versions")
@endpoint("Every rule version that has been in force: when, who, why", query=m.Paging,
          answers={200: m.Page[m.RuleVersionView]})
def rule_versions():
    query = select(RuleVersion).order_by(RuleVersion.id.desc())
    with runtime().sessions() as session:
        return paginated(session, query, lambda v: {
            "version": v.version, "actor": v.actor, "reason": v.reason, "created_at": iso(v.created_at)})


def audit_view(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": iso(entry.at), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "reason": entry.reason, "before": entry.before, "after": entry.after}


def audit_query(actor: str | None, action: str | None):
    """Newest first; only `actor`'s entries, only actions starting with `action` (such as rules. or alert.)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    return query


@api.get("/audit")
@endpoint("Admins and viewers: who changed what, when and why, newest first", query=m.AuditQuery,
          answers={200: m.Page[m.AuditView]}, errors=(403,))
def audit_log():
    """The audit log spans every area, so it is not shown to area users."""
    if g.user.role not in ("admin", "viewer"):
        raise Forbidden("the audit log spans every area: admins and viewers only")
    with runtime().sessions() as session:
        return paginated(session, audit_query(g.query.actor, g.query.action), audit_view)
