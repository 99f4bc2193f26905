"""Cycles on a live ensemble served on loopback (the built emulator of Open-Meteo's /v1/ensemble), on
SQLite and PostgreSQL: the members' share decides where a region's rule says so."""

from __future__ import annotations

import re
import time

import pytest
import yaml
from sqlalchemy import event, select

from triggers.validation import InvalidConfig
from warning.cycle import run_cycle
from warning.feeds.replay import replay_source
from warning.models import Alert, CycleRun, FeedRun
from warning.sources import open_source
from tests.conftest import keep_only_jilin
from tests.emulators import open_meteo_ensemble_handler, open_meteo_handler

CHANGCHUN = "220100"  # its districts and counties use the ensemble; the rest of Jilin do not


@pytest.fixture
def ensemble_runtime(make_runtime, config_dir, httpserver):
    keep_only_jilin(config_dir)
    settings = config_dir / "settings.toml"
    text = settings.read_text().replace("max_attempts = 4", "max_attempts = 1")
    settings.write_text(re.sub(r"(\[feeds\.ensemble\][^\n]*\n)enabled = false", r"\1enabled = true", text))
    rules = yaml.safe_load((config_dir / "rules.yaml").read_text(encoding="utf-8"))
    rules["overrides"][CHANGCHUN] = {"cold_wave": {"ensemble": {"use": "ensemble"}}}
    (config_dir / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    httpserver.expect_request("/v1/forecast").respond_with_handler(open_meteo_handler(cold=True))

    def start(cold_members: int | None):
        """None: the ensemble API is down."""
        ensemble = httpserver.expect_request("/v1/ensemble")
        if cold_members is None:
            ensemble.respond_with_data("upstream down", status=502)
        else:
            ensemble.respond_with_handler(open_meteo_ensemble_handler(members=51, cold_members=cold_members))
        return make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"),
                            COLDWARN_ENSEMBLE_URL=httpserver.url_for("/v1/ensemble"))
    return start


def changchun_codes(rt) -> set[str]:
    regions = rt.config.regions
    return set(regions.loc[regions["prefecture_code"] == CHANGCHUN, "code"])


def cold_wave_alerts(rt) -> dict[str, Alert]:
    with rt.sessions() as session:
        return {a.region_code: a for a in session.scalars(select(Alert).where(Alert.hazard == "cold_wave"))}


def test_the_members_share_decides_for_the_regions_that_use_it(ensemble_runtime):
    rt = ensemble_runtime(cold_members=36)  # 36 of 51: 71 %
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert summary["feeds"]["rejected"] == []
    alerts = cold_wave_alerts(rt)
    changchun = {code: a for code, a in alerts.items() if code in changchun_codes(rt)}
    others = {code: a for code, a in alerts.items() if code not in changchun}
    assert len(changchun) == len(changchun_codes(rt)) > 0 and len(others) == 60 - len(changchun)
    for alert in changchun.values():
        assert alert.level == "orange" and alert.stage == "act"
        assert alert.evidence["zh"].startswith("51 个集合成员中 36 个(71 %)达到寒潮橙色标准,")
        assert alert.evidence["values"]["source"] == "ensemble"
    assert all("集合成员" not in a.evidence["zh"] for a in others.values())  # the deterministic forecast's
    with rt.sessions() as session:
        runs = session.scalars(select(FeedRun).where(FeedRun.feed == "ensemble")).all()
    assert len(runs) == 2 and all(r.status == "ok" and r.payload_gzip for r in runs)  # 60 regions, 50 a batch


def test_too_few_members_keeps_the_ensemble_regions_quiet_but_not_the_others(ensemble_runtime):
    rt = ensemble_runtime(cold_members=20)  # 39 %: under prepare's 40 %
    run_cycle(rt, open_source(rt), deliver=False)
    alerts = cold_wave_alerts(rt)
    assert not set(alerts) & changchun_codes(rt) and len(alerts) == 60 - len(changchun_codes(rt))


def test_without_members_the_forecast_stands_in(ensemble_runtime):
    rt = ensemble_runtime(cold_members=None)
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert len(summary["feeds"]["rejected"]) == 2 and summary["feeds"]["freshness"]["ensemble"]["stale"]
    alerts = cold_wave_alerts(rt)
    assert len(alerts) == 60 and all("集合成员" not in a.evidence["zh"] for a in alerts.values())


def ensemble_requests(httpserver) -> int:
    return sum(request.path == "/v1/ensemble" for request, _ in httpserver.log)


def test_the_ensemble_is_fetched_on_its_own_schedule_and_reused_between(ensemble_runtime, httpserver):
    rt = ensemble_runtime(cold_members=36)
    first = run_cycle(rt, open_source(rt), deliver=False)
    asked = ensemble_requests(httpserver)
    second = run_cycle(rt, open_source(rt), deliver=False)  # within feeds.ensemble.every_h (6 h)
    assert asked == 2 and ensemble_requests(httpserver) == asked  # no new request
    assert second["feeds"]["rejected"] == [] and not second["feeds"]["freshness"]["ensemble"]["stale"]
    with rt.sessions() as session:
        runs = {cycle: session.scalars(select(FeedRun).where(FeedRun.feed == "ensemble", FeedRun.cycle_id == cycle)
                                       .order_by(FeedRun.id)).all() for cycle in (first["cycle_id"], second["cycle_id"])}
        assert [(r.status, r.payload_gzip is None) for r in runs[second["cycle_id"]]] == [("reused", True)] * 2
        assert [r.fallback_from for r in runs[second["cycle_id"]]] == [r.id for r in runs[first["cycle_id"]]]
        replayed = replay_source(session, session.get(CycleRun, second["cycle_id"])).pull()
    assert [len(p.data) for p in replayed if p.feed == "ensemble"] == [r.rows for r in runs[first["cycle_id"]]]
    changchun = [a for code, a in cold_wave_alerts(rt).items() if code in changchun_codes(rt)]
    assert changchun and all(a.level == "orange" and a.evidence["values"]["source"] == "ensemble" for a in changchun)


def test_a_reused_ensemble_is_read_once_not_again_every_cycle(ensemble_runtime, httpserver):
    # A national ensemble took 9 s to read again each hourly cycle; a process keeps what it reuses.
    rt = ensemble_runtime(cold_members=36)
    run_cycle(rt, open_source(rt), deliver=False)  # fetched
    loaded: list[str] = []

    def note(_conn, _cursor, statement, *_):
        if statement.lstrip().startswith("SELECT feed_runs.payload_gzip"):
            loaded.append(statement)
    event.listen(rt.engine, "before_cursor_execute", note)

    def alerts_after_a_cycle() -> dict:
        assert run_cycle(rt, open_source(rt), deliver=False)["feeds"]["rejected"] == []
        return {code: (a.level, a.stage, a.evidence["zh"]) for code, a in cold_wave_alerts(rt).items()}
    first_reuse = alerts_after_a_cycle()
    assert len(loaded) == 2  # the two batches' stored payloads, read by the first cycle to reuse them
    assert [alerts_after_a_cycle() for _ in range(2)] == [first_reuse] * 2 and len(loaded) == 2  # not again
    assert ensemble_requests(httpserver) == 2
    assert {first_reuse[code][:2] for code in changchun_codes(rt)} == {("orange", "act")}


def test_once_due_the_ensemble_is_fetched_again(ensemble_runtime, httpserver, config_dir):
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("every_h = 6 ", "every_h = 0.0003 "))
    rt = ensemble_runtime(cold_members=36)  # a new run every second
    run_cycle(rt, open_source(rt), deliver=False)
    time.sleep(1.2)
    run_cycle(rt, open_source(rt), deliver=False)
    assert ensemble_requests(httpserver) == 4
    with rt.sessions() as session:
        assert set(session.scalars(select(FeedRun.status).where(FeedRun.feed == "ensemble"))) == {"ok"}


def test_an_ensemble_schedule_longer_than_its_freshness_is_refused(make_runtime, config_dir):
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("every_h = 6 ", "every_h = 24 "))
    with pytest.raises(InvalidConfig, match=r"ensemble.every_h \(24\) must be less than freshness.ensemble_max_age_h \(24\)"):
        make_runtime()
