"""Manual decisions and rule versions through the cycle, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from triggers.validation import InvalidConfig
from warning.cycle import run_cycle
from warning.manual_alerts import clear, decide
from warning.models import Alert, AuditEntry, RuleVersion, Task
from warning.rule_versions import check_rules_text, install_rules
from warning.sources import open_source

COUNTY = "220802"  # 洮北区, orange in the demo


def cold_wave_alert(rt, code=COUNTY):
    with rt.sessions() as session:
        return session.scalars(select(Alert).where(Alert.region_code == code, Alert.hazard == "cold_wave")
                               .order_by(Alert.id.desc())).first()


def test_stand_down_holds_until_cleared_then_the_forecast_decides_again(make_runtime):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions.begin() as session:
        decision = decide(session, rt.config.region_codes, region_code=COUNTY, hazard="cold_wave", action="stand_down",
                          level=None, reason="duplicate of the city's own warning", actor="admin-li", hours=24)
        decision_id = decision.id
    summary = run_cycle(rt, open_source(rt, "demo"), deliver=False)
    alert = cold_wave_alert(rt)
    assert summary["alerts"]["resolved"] == 1 and alert.status == "resolved"
    assert alert.resolve_reason == "stood down by admin-li: duplicate of the city's own warning"
    with rt.sessions() as session:
        statuses = set(session.scalars(select(Task.status).where(Task.alert_id == alert.id)))
    assert "open" not in statuses
    assert run_cycle(rt, open_source(rt, "demo"), deliver=False)["alerts"]["issued"] == 0  # still held

    with rt.sessions.begin() as session:
        clear(session, decision_id, "admin-li")
    again = run_cycle(rt, open_source(rt, "demo"), deliver=False)
    assert again["alerts"]["issued"] == 1 and cold_wave_alert(rt).episode == 2
    with rt.sessions() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.action.like("alert.%")))]
    assert actions == ["alert.stand_down", "alert.stand_down.clear"]


def test_a_raise_is_validated(make_runtime):
    rt = make_runtime()
    with pytest.raises(InvalidConfig) as caught:
        with rt.sessions.begin() as session:
            decide(session, rt.config.region_codes, region_code="999999", hazard="heat", action="raise",
                   level="purple", reason="", actor="", hours=0)
    assert len(caught.value.problems) == 5


def test_rule_changes_are_versioned_with_who_and_why_and_taken_up_by_the_next_cycle(make_runtime, config_dir, tmp_path):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    assert cold_wave_alert(rt).level == "orange"
    stricter = tmp_path / "rules.yaml"
    stricter.write_text((config_dir / "rules.yaml").read_text(encoding="utf-8").replace(
        "orange: {drop_c: 12,", "orange: {drop_c: 14,"), encoding="utf-8")
    text = stricter.read_text(encoding="utf-8")
    installed = check_rules_text(rt.config, text, str(stricter))
    with rt.sessions.begin() as session:
        install_rules(session, rt.config, installed, text, "admin-li", "provincial notice No. 7")
    second = run_cycle(rt, open_source(rt, "demo"), deliver=False)
    alert = cold_wave_alert(rt)
    assert (alert.level, alert.rule_version) == ("yellow", installed.version)  # a 13 degC drop is no longer orange
    assert second["alerts"]["updated"] >= 11
    with rt.sessions() as session:
        history = [(v.version, v.actor, v.reason) for v in session.scalars(select(RuleVersion).order_by(RuleVersion.id))]
    assert [h[1:] for h in history] == [("rules.yaml", "in force at this cycle"), ("admin-li", "provincial notice No. 7")]
    assert history[0][0] != installed.version == history[1][0]


def test_a_broken_rules_file_is_refused_and_the_rules_in_force_stay(make_runtime, config_dir, tmp_path):
    rt = make_runtime()
    broken = tmp_path / "rules.yaml"
    broken.write_text((config_dir / "rules.yaml").read_text(encoding="utf-8").replace("drop_c: 12,", "drop_c: -12,"))
    with pytest.raises(InvalidConfig, match="cold_wave.orange.drop_c"):
        check_rules_text(rt.config, broken.read_text(encoding="utf-8"), str(broken))
    (config_dir / "rules.yaml").write_text(broken.read_text())  # edited in place by hand, badly
    summary = run_cycle(rt, open_source(rt, "demo"), deliver=False)
    assert summary["alerts"]["by_hazard"]["cold_wave"]["orange"] == 11  # the valid rules stayed in force


def test_rules_saved_on_one_instance_are_taken_up_by_another_whose_own_file_is_stale(
        make_runtime, config_dir, database_url, tmp_path):
    import shutil

    from tests.conftest import settings_env
    from warning.runtime import Runtime
    from warning.settings import load_settings
    web = make_runtime()
    run_cycle(web, open_source(web, "demo"), deliver=False)
    worker_config = tmp_path / "worker-config"  # another host: its own copy of config/
    shutil.copytree(config_dir, worker_config)
    worker = Runtime.start(load_settings(settings_env(worker_config, database_url, tmp_path)))
    try:
        stricter = (config_dir / "rules.yaml").read_text(encoding="utf-8").replace("orange: {drop_c: 12,", "orange: {drop_c: 14,")
        installed = check_rules_text(web.config, stricter, "api")
        with web.sessions.begin() as session:
            install_rules(session, web.config, installed, stricter, "admin-li", "provincial notice No. 7")
        run_cycle(worker, open_source(worker, "demo"), deliver=False)
        assert cold_wave_alert(worker).rule_version == installed.version  # not reverted by the stale file
        hand_edit = (worker_config / "rules.yaml").read_text(encoding="utf-8").replace("red: {drop_c: 16,", "red: {drop_c: 13,")
        (worker_config / "rules.yaml").write_text(hand_edit, encoding="utf-8")
        run_cycle(worker, open_source(worker, "demo"), deliver=False)
        assert cold_wave_alert(worker).level == "red"  # a version never seen before is a fresh edit and wins
        with worker.sessions() as session:
            newest = session.scalars(select(RuleVersion).order_by(RuleVersion.id.desc())).first()
        assert (newest.actor, newest.version) == ("rules.yaml", worker.config.rules.version)
    finally:
        worker.close()
