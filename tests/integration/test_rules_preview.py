"""The rules preview: stored forecasts replayed under today's rules and under an edit, nothing stored changed."""

from __future__ import annotations

from sqlalchemy import func, select

from triggers.rules import parse_rules
from warning.config import read_yaml
from warning.cycle import run_cycle
from warning.models import Alert, RuleVersion
from warning.preview import preview_rules
from warning.sources import open_source


def edited_rules(rt, config_dir, old: str, new: str):
    text = (config_dir / "rules.yaml").read_text(encoding="utf-8")
    assert old in text
    import yaml
    return parse_rules(yaml.safe_load(text.replace(old, new)), rt.config.area_codes, "edited")


def stored_state(rt, config_dir):
    with rt.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Alert)),
                session.scalar(select(func.count()).select_from(RuleVersion)),
                read_yaml(config_dir / "rules.yaml"))


def test_a_stricter_orange_shows_the_orange_counties_lowered_to_yellow(make_runtime, config_dir):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        orange = {a.region_code for a in session.scalars(select(Alert).where(
            Alert.hazard == "cold_wave", Alert.level == "orange", Alert.status == "open"))}
    before = stored_state(rt, config_dir)
    stricter = edited_rules(rt, config_dir, "orange: {drop_c: 12,", "orange: {drop_c: 14,")
    with rt.sessions() as session:
        preview = preview_rules(session, rt.config, stricter, days=7)
    lowered = [c for c in preview["changes"] if c["change"] == "lowered"]
    assert {c["region_code"] for c in lowered if c["hazard"] == "cold_wave"} == orange and len(orange) == 11
    assert all((c["current_level"], c["edited_level"]) == ("orange", "yellow") for c in lowered)
    assert preview["totals"]["lowered"] == 11 and preview["totals"]["added"] == preview["totals"]["removed"] == 0
    assert preview["totals"]["current"] == preview["totals"]["edited"]  # the same alerts, at other levels
    assert (preview["cycles_replayed"], preview["edited_version"]) == (1, stricter.version)
    assert stored_state(rt, config_dir) == before  # a preview changes nothing


def test_looser_rules_raise_and_add_alerts_and_a_disabled_hazard_removes_them(make_runtime, config_dir):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        open_alerts = {(a.region_code, a.hazard): a.level for a in session.scalars(select(Alert))}
        looser_red = preview_rules(session, rt.config, edited_rules(
            rt, config_dir, "red: {drop_c: 16,", "red: {drop_c: 13,"), days=7)
        frost_in_january = preview_rules(session, rt.config, edited_rules(
            rt, config_dir, "months: [3, 4, 5, 9, 10, 11]", "months: [1, 3, 4, 5, 9, 10, 11]"), days=7)
        no_cold_wave = preview_rules(session, rt.config, edited_rules(
            rt, config_dir, "  resolve_after_quiet_cycles: 2\n\ncold_wave_grade",
            "  resolve_after_quiet_cycles: 2\n  enabled: false\n\ncold_wave_grade"), days=7)
    orange = {code for (code, hazard), level in open_alerts.items() if hazard == "cold_wave" and level == "orange"}
    assert {c["region_code"] for c in looser_red["changes"]} == orange  # the 13 degC drops are red now
    assert {(c["change"], c["current_level"], c["edited_level"]) for c in looser_red["changes"]} == {
        ("raised", "orange", "red")}
    added = frost_in_january["changes"]
    assert added and {(c["change"], c["hazard"], c["current_level"]) for c in added} == {("added", "frost", None)}
    assert frost_in_january["totals"]["edited"] == frost_in_january["totals"]["current"] + len(added)
    cold_wave = {code for code, hazard in open_alerts if hazard == "cold_wave"}
    assert {c["region_code"] for c in no_cold_wave["changes"]} == cold_wave
    assert no_cold_wave["totals"]["removed"] == len(cold_wave) and no_cold_wave["totals"]["added"] == 0


def test_the_same_rules_change_nothing_and_an_empty_history_replays_nothing(make_runtime):
    rt = make_runtime()
    with rt.sessions() as session:
        empty = preview_rules(session, rt.config, rt.config.rules, days=7)
    assert (empty["cycles_replayed"], empty["changes"]) == (0, [])
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        same = preview_rules(session, rt.config, rt.config.rules, days=7)
    assert same["changes"] == [] and same["totals"]["current"] == same["totals"]["edited"] > 0
