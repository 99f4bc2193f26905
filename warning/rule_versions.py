"""The rule set in force, versioned: who brought each version, when and why."""

from __future__ import annotations

import os
import tempfile

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.rules import Rules, parse_rules
from triggers.validation import InvalidConfig
from warning.accounts import audit
from warning.config import AppConfig, parse_yaml, read_text
from warning.models import RuleVersion, utcnow


def record_version(session: Session, rules: Rules, actor: str, reason: str, text: str | None = None) -> bool:
    """Store the rule set if it differs from the latest recorded one; True when a new version was stored."""
    latest = session.scalars(select(RuleVersion).order_by(RuleVersion.id.desc()).limit(1)).first()
    if latest is not None and latest.version == rules.version:
        return False
    session.add(RuleVersion(version=rules.version, content=rules.content, text=text, actor=actor, reason=reason,
                            created_at=utcnow()))
    audit(session, actor, "rules.version", "rules", {"version": latest.version} if latest else None,
          {"version": rules.version}, reason=reason)
    return True


def check_rules_text(config: AppConfig, text: str, source: str) -> Rules:
    """Parse and validate rules YAML as the cycle would; InvalidConfig names every problem."""
    return parse_rules(parse_yaml(text, source), config.area_codes, source)


def check_edited_rules(config: AppConfig, text: str) -> Rules:
    """Rules typed into the editor or sent to the API. Problems are named by rule key
    (cold_wave.orange.drop_c: …); a YAML syntax error is named on the field `text`."""
    try:
        return check_rules_text(config, text, "text")
    except InvalidConfig as error:
        raise InvalidConfig([p if p.startswith("text: not valid YAML") else p.removeprefix("text: ")
                             for p in error.problems], error.details) from None


def install_rules(session: Session, config: AppConfig, rules: Rules, text: str, actor: str, reason: str) -> None:
    """Record validated rules (`text` is their YAML) as a version with who and why, and put the text
    in place, comments and all, for the next cycle."""
    if not actor.strip() or not reason.strip():
        raise InvalidConfig(["reason: who and why are both required"])
    target = config.settings.config_dir / "rules.yaml"
    record_version(session, rules, actor.strip(), reason.strip(), text)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".rules-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, target)  # atomic: a reader sees the old file or the new one, never half


def rules_text(session: Session, config: AppConfig) -> str:
    """The YAML of the rules in force as an editor should show it: as written where that was kept."""
    kept = session.scalar(select(RuleVersion.text).where(RuleVersion.version == config.rules.version,
                                                         RuleVersion.text.is_not(None))
                          .order_by(RuleVersion.id.desc()).limit(1))
    if kept is not None:
        return kept
    path = config.settings.config_dir / "rules.yaml"
    try:
        on_disk = read_text(path)
        if parse_yaml(on_disk, str(path)) == config.rules.content:
            return on_disk
    except InvalidConfig:
        pass  # a broken hand edit on disk: the rules in force are shown instead
    return yaml.safe_dump(config.rules.content, allow_unicode=True, sort_keys=False)
