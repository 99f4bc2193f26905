"""Verification from stored cycles, on SQLite and PostgreSQL: cycles on a fixed clock against the built
Open-Meteo emulators on loopback, whose cold front is placed in time so what each cycle forecast and
what the later one saw are known: the same front forecast and seen (all hits), a front that never came
(all false alarms), one that came unannounced (all misses); the ensemble's share against what came."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from triggers.levels import COLOUR_LEVELS
from warning.cli import main
from warning.cycle import run_cycle
from warning.feeds.http import Fetcher
from warning.feeds.live import LiveSource
from warning.verification import Query, verification
from tests.conftest import keep_only_jilin, log_in, settings_env
from tests.emulators import open_meteo_archive_handler, open_meteo_ensemble_handler, open_meteo_handler

FIRST, LATER = datetime(2027, 1, 9, tzinfo=timezone.utc), datetime(2027, 1, 13, tzinfo=timezone.utc)
FRONT = datetime(2027, 1, 11, tzinfo=timezone.utc)  # 08:00 in Jilin on 11 January
REGIONS = 60  # Jilin's counties


@pytest.fixture
def cycles(make_runtime, config_dir, httpserver):
    """run(at, front): one cycle on the clock `at` whose forecast (and past days) bring the front at
    `front` (None: calm weather throughout), with an ensemble of `cold_members` of 51 bringing it too."""
    keep_only_jilin(config_dir)
    settings = config_dir / "settings.toml"
    text = settings.read_text().replace("max_attempts = 4", "max_attempts = 1")
    settings.write_text(re.sub(r"(\[feeds\.ensemble\][^\n]*\n)enabled = false", r"\1enabled = true", text))
    rt = make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"),
                      COLDWARN_ENSEMBLE_URL=httpserver.url_for("/v1/ensemble"))

    def run(at: datetime, front: datetime | None, cold_members: int = 0) -> None:
        httpserver.clear_all_handlers()
        httpserver.expect_request("/v1/forecast").respond_with_handler(
            open_meteo_handler(cold=front is not None, now=at, front_at=front))
        httpserver.expect_request("/v1/ensemble").respond_with_handler(
            open_meteo_ensemble_handler(members=51, cold_members=cold_members, now=at, front_at=front or FRONT))
        fetch = rt.settings.feeds.fetch
        source = LiveSource(rt.settings.feeds, Fetcher(rt.http, fetch.connect_timeout_s, fetch.read_timeout_s,
                                                       fetch.max_attempts, fetch.backoff_s), clock=lambda: at)
        assert run_cycle(rt, source, deliver=False)["feeds"]["rejected"] == []
    run.rt = rt
    return run


def scores(rt, **query) -> dict:
    with rt.sessions() as session:
        return verification(session, Query(by=(), **query))


def cold_wave(report: dict, source: str = "deterministic") -> dict[str, dict]:
    return {r["level"]: r for r in report["contingency"] if r["hazard"] == "cold_wave" and r["source"] == source}


def test_a_front_forecast_and_seen_is_all_hits(cycles):
    cycles(FIRST, FRONT)
    cycles(LATER, FRONT)
    report = scores(cycles.rt)
    assert report["cycles"] == 2
    levels = cold_wave(report)
    assert levels, "the front reaches at least one cold-wave level"
    for row in levels.values():
        assert row["misses"] == row["false_alarms"] == 0 and row["hits"] > 0 and row["hits"] % REGIONS == 0
        assert (row["pod"], row["far"], row["csi"]) == (1.0, 0.0, 1.0)
    # every warned event was forecast by the first cycle, whose clock was two days before the front's
    # Beijing day began (11 Jan 00:00 +08:00 = 10 Jan 16:00 UTC): 40 h, or 64 h for the day after
    leads = {r["level"]: r for r in report["lead_times"] if r["hazard"] == "cold_wave" and r["source"] == "deterministic"}
    assert set(leads) == set(levels) and all(40.0 <= r["mean_lead_h"] <= 64.0 for r in leads.values())


def test_a_front_that_never_came_is_all_false_alarms(cycles):
    cycles(FIRST, FRONT)
    cycles(LATER, None)
    levels = cold_wave(scores(cycles.rt))
    assert levels
    for row in levels.values():
        assert row["hits"] == row["misses"] == 0 and row["false_alarms"] > 0
        assert row["pod"] is None and row["far"] == 1.0 and row["csi"] == 0.0


def test_a_front_that_came_unannounced_is_all_misses(cycles):
    cycles(FIRST, None)
    cycles(LATER, FRONT)
    levels = cold_wave(scores(cycles.rt))
    assert levels
    for row in levels.values():
        assert row["hits"] == row["false_alarms"] == 0 and row["misses"] > 0
        assert row["pod"] == 0.0 and row["far"] is None


def test_the_ensemble_share_is_scored_against_what_came(cycles):
    cycles(FIRST, FRONT, cold_members=36)  # 36 of 51 members bring the front: 70.6 %
    cycles(LATER, FRONT)
    report = scores(cycles.rt)
    deterministic = cold_wave(report)
    orange = [r for r in report["reliability"] if r["hazard"] == "cold_wave" and r["level"] == "orange"]
    # the members that bring the front meet exactly what the forecast met: every event the forecast
    # had sits in the 70–80 % bin, and all of them came; the rest sit at 0 % and none came
    assert [(r["bin_from_pct"], r["mean_probability"], r["observed_frequency"]) for r in orange] == [
        (0, 0.0, 0.0), (70, round(36 / 51, 4), 1.0)]
    assert orange[1]["forecasts"] == deterministic["orange"]["hits"]
    # at prepare (40 %) and act (70 %) the ensemble warns of exactly those events
    for source in ("ensemble_prepare", "ensemble_act"):
        assert {level: (r["hits"], r["misses"], r["false_alarms"]) for level, r in cold_wave(report, source).items()} == {
            level: (r["hits"], 0, 0) for level, r in deterministic.items()}
    brier = {r["level"]: r for r in report["brier"] if r["hazard"] == "cold_wave"}
    share = 36 / 51
    events, cells = deterministic["orange"]["hits"], brier["orange"]["forecasts"]
    assert brier["orange"]["brier"] == round(events * (1 - share) ** 2 / cells, 4)


def test_a_period_without_cycles_scores_nothing(cycles):
    cycles(FIRST, FRONT)
    cycles(LATER, FRONT)
    report = scores(cycles.rt, since=datetime(2027, 2, 1, tzinfo=timezone.utc))
    assert report["cycles"] == 0 and report["contingency"] == [] and report["reliability"] == []
    only_first = scores(cycles.rt, until=datetime(2027, 1, 10, tzinfo=timezone.utc))
    assert only_first["cycles"] == 1 and only_first["contingency"] == []  # nothing later saw its days


def test_the_api_the_command_and_the_page_give_the_same_figures(cycles, config_dir, database_url, tmp_path):
    from warning.accounts import create_token, create_user
    from warning.web import create_app
    cycles(FIRST, FRONT)
    cycles(LATER, None)
    rt = cycles.rt
    with rt.sessions.begin() as session:
        create_user(session, "watcher", "viewer", None, "a long enough password 1", rt.config.area_codes, actor="test")
        token = create_token(session, "watcher", "test", actor="test")
    client = create_app(rt).test_client()
    answer = client.get("/api/v1/verification?by=province", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    blue = [r for r in answer.json["contingency"] if r["source"] == "deterministic" and r["hazard"] == "cold_wave"
            and r["level"] == "blue"]
    assert [(r["province"], r["far"]) for r in blue] == [("220000", 1.0)]
    refused = client.get("/api/v1/verification?by=county", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and "by" in refused.get_data(as_text=True)
    for wrong, field in (("until=0.5", "until"), ("since=2027-13-01T00:00Z", "since"), ("since=2027-01-10", "since")):
        bad = client.get(f"/api/v1/verification?{wrong}", headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 422 and field in bad.get_data(as_text=True), wrong
    later = client.get("/api/v1/verification?since=2027-01-12T08:00%2B08:00", headers={"Authorization": f"Bearer {token}"})
    assert later.json["cycles"] == 1  # only the later cycle's clock (13 Jan 08:00 Beijing)

    log_in(client, "watcher", "a long enough password 1")
    page = client.get("/verification?hazard=cold_wave&level=blue").get_data(as_text=True)
    assert '<strong id="cycle-count">2</strong>' in page
    row = re.search(r'<tr data-source="deterministic" data-hazard="cold_wave" data-level="blue"[^>]*>', page).group(0)
    assert 'data-hits="0"' in row and 'data-misses="0"' in row and 'data-false-alarms="0"' not in row
    assert '<polyline' in page and 'data-score="far"' in page  # the lead chart draws FAR
    assert 'id="no-ensemble"' not in page and "English" in page and "False alarms" not in page
    assert client.get("/verification?since=2027-13-01").status_code == 422

    env = settings_env(config_dir, database_url, tmp_path, COLDWARN_SCENARIO="")
    text = CliRunner().invoke(main, ["verify", "--by", "lead_d"], env=env)
    assert text.exit_code == 0, text.output
    assert text.output.startswith("预警检验:2 个运行周期,2027-01-09 08:00 至 2027-01-13 08:00(北京时间)")
    # the front's Beijing day (11 January) was two days ahead of the first cycle's: each county a false alarm
    assert "确定性预报 寒潮蓝色,提前2天:命中 0,漏报 0,空报 60;命中率 —,空报率 100%,TS评分 0.0" in text.output
    english = CliRunner().invoke(main, ["verify", "--lang", "en", "--json"], env=env)
    assert english.exit_code == 0
    assert '"cycles": 2' in english.output
    wrong = CliRunner().invoke(main, ["verify", "--by", "county", "--province", "22"], env=env)
    assert wrong.exit_code == 2 and "--by: 'county'" in wrong.output and "--province: '22'" in wrong.output
    assert all(level in COLOUR_LEVELS for level in {r["level"] for r in answer.json["contingency"]})


def test_the_rules_preview_scores_the_edit_beside_the_rules_in_force(cycles, config_dir):
    import yaml

    from triggers.rules import parse_rules
    from warning.preview import preview_rules
    cycles(FIRST, FRONT, cold_members=36)  # 36 of 51 members: 70.6 %
    cycles(LATER, FRONT)
    rt = cycles.rt
    document = yaml.safe_load((config_dir / "rules.yaml").read_text(encoding="utf-8"))
    document["cold_wave"]["ensemble"]["act"]["min_pct"] = 71  # 36 of 51 no longer reaches act
    stricter = parse_rules(document, rt.config.area_codes, "edited")
    with rt.sessions() as session:
        preview = preview_rules(session, rt.config, stricter, days=7)
        same = preview_rules(session, rt.config, rt.config.rules, days=7)
    rows = {(r["source"], r["hazard"], r["level"]): r for r in preview["scores"]}
    act, deterministic = rows["ensemble_act", "cold_wave", "orange"], rows["deterministic", "cold_wave", "orange"]
    events = deterministic["current"]["hits"]
    assert events > 0 and deterministic["current"] == deterministic["edited"]  # the forecast's own scores unchanged
    assert (act["current"]["hits"], act["current"]["misses"], act["current"]["pod"]) == (events, 0, 1.0)
    assert (act["edited"]["hits"], act["edited"]["misses"], act["edited"]["pod"]) == (0, events, 0.0)
    assert rows["ensemble_prepare", "cold_wave", "orange"]["edited"]["hits"] == events  # 40 % still reached
    assert all(r["current"] == r["edited"] for r in same["scores"]) and same["scores"]

    from warning.accounts import create_token, create_user
    from warning.web import create_app
    with rt.sessions.begin() as session:
        create_user(session, "root", "admin", None, "a long enough password 1", rt.config.area_codes, actor="test")
        token = create_token(session, "root", "test", actor="test")
    client = create_app(rt).test_client()
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    answer = client.post("/api/v1/rules/preview", json={"text": text, "days": 7}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json["scores"] == preview["scores"]
    log_in(client, "root", "a long enough password 1")
    page = client.get("/rules/yaml").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    shown = client.post("/rules/yaml", data={"csrf_token": token, "text": text, "days": "7", "action": "preview"})
    row = re.search(r'<tr data-source="ensemble_act" data-hazard="cold_wave" data-level="orange"[^>]*>', shown.get_data(as_text=True))
    assert f'data-current="{events}/0/0"' in row.group(0) and f'data-edited="0/{events}/0"' in row.group(0)


def test_an_observed_series_says_what_happened_before_later_cycles_do(make_runtime, config_dir, httpserver):
    """The forecasts of both cycles bring the front (their past days too), but Open-Meteo's historical
    weather API (the built emulator of /v1/archive) says it never came: every warning was a false alarm."""
    keep_only_jilin(config_dir)
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("max_attempts = 4", "max_attempts = 1")
                        .replace("enabled = false          # off: verification", "enabled = true  # off: verification")
                        .replace("every_h = 24 ", "every_h = 0.0003 "))  # due again a second later
    rt = make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"),
                      COLDWARN_OBSERVED_URL=httpserver.url_for("/v1/archive"))
    fetch = rt.settings.feeds.fetch
    for at in (FIRST, LATER):
        time.sleep(1.2)
        httpserver.clear_all_handlers()
        httpserver.expect_request("/v1/forecast").respond_with_handler(open_meteo_handler(cold=True, now=at, front_at=FRONT))
        httpserver.expect_request("/v1/archive").respond_with_handler(open_meteo_archive_handler(cold=False))
        source = LiveSource(rt.settings.feeds, Fetcher(rt.http, fetch.connect_timeout_s, fetch.read_timeout_s,
                                                       fetch.max_attempts, fetch.backoff_s), clock=lambda: at)
        assert run_cycle(rt, source, deliver=False)["feeds"]["rejected"] == []
    report = scores(rt)
    assert report["observations"] == 2  # fixed clocks days apart: each cycle pulled it (its window moved)
    levels = cold_wave(report)
    assert levels and all(r["hits"] == r["misses"] == 0 and r["false_alarms"] > 0 for r in levels.values())
    assert [r.path for r, _ in httpserver.log if r.path == "/v1/archive"] == ["/v1/archive"] * 2
