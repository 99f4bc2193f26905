"""The rules pages: the form (one hazard for the nation or one area, inherited values with their
origin, an override only where it differs) and the YAML view for experts. Both preview the edit on
the stored forecasts before saving; a save needs a reason and goes to the audit log."""

from __future__ import annotations

import re

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from triggers.levels import LEVEL_NAMES
from triggers.validation import InvalidConfig, Problem
from warning.models import RuleVersion
from warning.preview import MAX_DAYS, preview_rules
from warning.rule_versions import check_edited_rules, install_rules, rules_text
from warning.rules_form import (FIELD_WORDS, FORMS, NATION, SECTION_NAMES, WORD_NAMES, HazardView, edited_text,
                                 parse_entries, placed, view)
from warning.web import rules_in_force_text, runtime
from warning.web.console import require_roles
from warning.web.pages import login_required, pages, said
from warning.web.words import problem_words

PREVIEW_DAYS = (3, 7, 14, MAX_DAYS)
SIX_DIGITS = re.compile(r"\b(\d{6})\b")
YAML_SYNTAX = re.compile(r"not valid YAML(?: at line (\d+), column (\d+))?: (.*)", re.S)


@pages.get("/rules")
@login_required
def rules_page():
    section = request.args.get("section", "cold_wave")
    if section not in FORMS:
        abort(404)
    runtime().refresh_rules()
    area, problem = resolve_area(request.args.get("area", ""))
    return show_form(view(runtime().config.rules, section, area), area_problem=problem,
                     status=422 if problem else 200)


@pages.post("/rules")
@login_required
def rules_form_edit():
    """Preview (nothing stored) or save the form; what cannot be read or validated is shown at its field."""
    require_roles("admin")
    rt = runtime()
    rt.refresh_rules()
    section = request.form.get("section", "")
    if section not in FORMS:
        abort(404)
    area, problem = resolve_area(request.form.get("area", ""))
    hazard = view(rt.config.rules, section, area)
    entries = {key[2:]: value for key, value in request.form.items() if key.startswith("v.")}
    if problem:
        return show_form(hazard, entries, area_problem=problem, status=422)
    values, problems = parse_entries(hazard, entries)
    if problems:
        return show_form(hazard, entries, problems, status=422)
    with rt.sessions() as db:
        text = rules_text(db, rt.config)
    edited_yaml = edited_text(text, hazard, values, rt.config.area_names.get(area, ""))
    try:
        edited = check_edited_rules(rt.config, edited_yaml)
    except InvalidConfig as error:
        return show_form(hazard, entries, error.details or [Problem("", "invalid", {})], status=422)
    if request.form.get("action") == "save":
        return save(edited, edited_yaml, lambda **shown: show_form(hazard, entries, **shown),
                    url_for("pages.rules_page", section=section, area=area if area != NATION else None))
    return show_form(hazard, entries, **previewed(edited))


@pages.get("/rules/yaml")
@login_required
def rules_yaml_page():
    return show_yaml(rules_in_force_text())


@pages.post("/rules/yaml")
@login_required
def rules_yaml_edit():
    """The same for the whole file as YAML: an invalid edit is shown back with its problems, in words."""
    require_roles("admin")
    rt = runtime()
    rt.refresh_rules()
    text = request.form.get("text", "")
    try:
        edited = check_edited_rules(rt.config, text)
    except InvalidConfig as error:
        return show_yaml(text, yaml_problems(error), status=422)
    if request.form.get("action") == "save":
        return save(edited, text, lambda **shown: show_yaml(text, **shown), url_for("pages.rules_yaml_page"))
    return show_yaml(text, **previewed(edited))


def save(edited, text: str, shown_again, done_url: str):
    """Install the edited rules with the reason given; without a reason, or without a change, say so."""
    rt = runtime()
    reason = request.form.get("reason", "").strip()
    if not reason:
        return shown_again(reason_problem=said("请填写修改原因，它会记入审计日志", "Give a reason: it goes to the audit log"),
                           status=422)
    if edited.version == rt.config.rules.version:
        return shown_again(unchanged=True)
    with rt.sessions.begin() as db:
        install_rules(db, rt.config, edited, text, g.user.name, reason)
    rt.refresh_rules()
    flash(said(f"已保存规则版本 {edited.version[:12]}，下一轮运行起生效",
              f"saved rules version {edited.version[:12]}; in force from the next cycle"), "ok")
    return redirect(done_url)


def previewed(edited) -> dict:
    try:
        days = int(request.form.get("days", 7))
    except ValueError:
        days = 7
    days = days if days in PREVIEW_DAYS else 7
    with runtime().sessions() as db:
        return {"preview": preview_rules(db, runtime().config, edited, days), "days": days}


def resolve_area(given: str) -> tuple[str, tuple[str, str] | None]:
    """The area a form is for, from its code or its name; where it is not one, (NATION, the problem in
    words and the data it concerns)."""
    config = runtime().config
    given = given.strip()
    if given in ("", NATION):
        return NATION, None
    code = SIX_DIGITS.search(given)
    if code and code.group(1) in config.area_names:
        return code.group(1), None
    named = sorted(c for c, name in config.area_names.items() if name == given)
    if len(named) == 1:
        return named[0], None
    if named:
        return NATION, (said("有多个同名地区，请填写区划代码：", "several areas have this name; give the code:"),
                        "、".join(f"{config.area_names[c]} {c}" for c in named))
    return NATION, (said("没有这个名称或代码的省、市或县：", "no province, prefecture or county has this name or code:"), given)


def show_form(hazard: HazardView, entries: dict | None = None, problems: list[Problem] = (), area_problem=None,
              status: int = 200, **shown):
    config = runtime().config
    at_field, at_table, elsewhere = placed(list(problems), hazard)
    lang = g.lang
    return render_template(
        "rules_form.html", hazard=hazard, forms=FORMS, entries=entries, area_problem=area_problem,
        area_name=config.area_names.get(hazard.area), area_names=config.area_names,
        field_problems={path: [problem_words(p.kind, p.context, lang) for p in found] for path, found in at_field.items()},
        table_problems=[problem_words(p.kind, p.context, lang) for p in at_table],
        other_problems=[(key_words(p.key), problem_words(p.kind, p.context, lang)) for p in elsewhere],
        overridden=overridden_areas(), choices=area_choices(), section_names=SECTION_NAMES, word_names=WORD_NAMES,
        **common(status, **shown)), status


def show_yaml(text: str, problems: list[tuple[str, str, str]] = (), status: int = 200, **shown):
    return render_template("rules_yaml.html", text=text, problems=problems, **common(status, **shown)), status


def common(status: int, preview=None, days: int = 7, reason_problem=None, unchanged=False) -> dict:
    """What both rules pages show around their editor: the version in force, the last versions, the preview."""
    rt = runtime()
    with rt.sessions() as db:
        versions = db.scalars(select(RuleVersion).order_by(RuleVersion.id.desc()).limit(20)).all()
    return dict(preview=preview, days=days, day_choices=PREVIEW_DAYS, reason=request.form.get("reason", ""),
                reason_problem=reason_problem, unchanged=unchanged, versions=versions, in_force=rt.config.rules.version,
                may_edit=g.user.role == "admin", failed=status >= 400)


def yaml_problems(error: InvalidConfig) -> list[tuple[str, str, str]]:
    """(where, what, the parser's own words) for each problem of a YAML edit, in the reader's language."""
    if error.details:
        return [(key_words(p.key), problem_words(p.kind, p.context, g.lang), "") for p in error.details]
    shown = []
    for problem in error.problems:
        syntax = YAML_SYNTAX.search(problem)
        if syntax:
            line, column, detail = syntax.groups()
            where = said(f"第 {line} 行第 {column} 列", f"line {line}, column {column}") if line else ""
            shown.append((where, said("YAML 语法错误", "YAML syntax error"), detail))
        else:
            shown.append(("", said("无法读取这些规则", "these rules cannot be read"), problem))
    return shown


def key_words(key: str) -> str:
    """A rule key in words: overrides.220100.cold_wave.yellow.drop_c -> 长春市 · 寒潮 · 黄色 · 最低气温降幅."""
    lang, names = g.lang, runtime().config.area_names
    parts, words = key.split("."), []
    for index, part in enumerate(parts):
        before = parts[index - 1] if index else ""
        if part in ("overrides", "levels", "grades", "changes"):
            continue
        if before == "overrides":
            words.append(names.get(part, part))
        elif before == "grades" and part.isdigit():
            words.append(said(f"第 {int(part) + 1} 等", f"grade {int(part) + 1}"))
        elif part == "periods":
            words.append(said("阶段性调整", "temporary change"))
        elif before == "periods" and part.isdigit():
            words.append(said(f"第 {int(part) + 1} 项", f"no. {int(part) + 1}"))
        elif part in SECTION_NAMES:
            words.append(SECTION_NAMES[part][lang])
        elif part in LEVEL_NAMES:
            words.append(LEVEL_NAMES[part][lang])
        else:
            words.append(FIELD_WORDS.get(part, (part, part))[0 if lang == "zh" else 1])
    return " · ".join(words) or said("规则", "rules")


def overridden_areas() -> list[tuple[str, str, list[str]]]:
    """(code, name, hazards) of each area with an override, for links to their form."""
    rules, names = runtime().config.rules, runtime().config.area_names
    return [(code, names.get(code, code), [s for s in override if s in FORMS])
            for code, override in sorted(rules.ruleset.overrides.items())]


def area_choices() -> list[tuple[str, str]]:
    """Provinces and prefectures to pick from (a county is typed by code or name)."""
    regions = runtime().config.regions
    areas = dict(zip(regions["province_code"], regions["province_name"]))
    areas |= {code: f"{name} · {areas.get(code[:2] + '0000', '')}"
              for code, name in zip(regions["prefecture_code"], regions["prefecture_name"]) if code not in areas}
    return sorted(areas.items())
