"""Cycles on live feeds served on loopback: last good data stands in, staleness is announced once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from warning.cycle import run_cycle
from warning.models import Alert, FeedRun, utcnow
from warning.sources import open_source
from warning.accounts import create_user
from warning.web import create_app
from tests.conftest import PASSWORD, keep_only_jilin, log_in, received_events, write_subscription
from tests.emulators import open_meteo_handler


@pytest.fixture
def live_runtime(make_runtime, config_dir, httpserver):
    keep_only_jilin(config_dir)
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("max_attempts = 4", "max_attempts = 2")
                        .replace("backoff_s = 1 ", "backoff_s = 0 ").replace("batch_size = 100", "batch_size = 25"))
    return lambda **env: make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"),
                                      **env)


class Forecasts:
    """The emulator, switchable between good answers and an outage."""

    def __init__(self, httpserver):
        self.good, self.down = open_meteo_handler(cold=True), False
        httpserver.expect_request("/v1/forecast").respond_with_handler(self)

    def __call__(self, request):
        return Response("upstream down", status=502) if self.down else self.good(request)


def open_alerts(rt, hazard="cold_wave") -> dict[str, str]:
    with rt.sessions() as session:
        return dict(session.execute(select(Alert.region_code, Alert.level).where(
            Alert.status == "open", Alert.hazard == hazard)).all())


def test_an_outage_uses_the_last_good_forecast_and_changes_nothing(live_runtime, httpserver):
    forecasts = Forecasts(httpserver)
    rt = live_runtime()
    first = run_cycle(rt, open_source(rt), deliver=False)
    before = open_alerts(rt)
    assert first["alerts"]["by_hazard"]["cold_wave"] == {"orange": len(before)} and first["feeds"]["rejected"] == []

    forecasts.down = True
    second = run_cycle(rt, open_source(rt), deliver=False)
    assert second["feeds"]["fallbacks"] == len(second["feeds"]["rejected"]) == 3  # all three batches
    assert all("HTTP 502: upstream down (after 2 attempts)" in e for e in second["feeds"]["rejected"])
    assert (second["alerts"]["issued"], second["alerts"]["resolved"]) == (0, 0)
    assert open_alerts(rt) == before
    with rt.sessions() as session:
        failed = session.scalars(select(FeedRun).where(FeedRun.status == "failed")).all()
    assert len(failed) == 3 and all(r.fallback_from and r.attempts == 2 for r in failed)


def test_without_any_good_data_nothing_is_assessed_and_the_feed_is_stale(live_runtime, httpserver):
    forecasts = Forecasts(httpserver)
    forecasts.down = True
    rt = live_runtime()
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert summary["regions_assessed"] == 0 and summary["feeds"]["freshness"]["forecast"]["stale"]


def test_a_stale_feed_is_announced_once_and_its_recovery_too(live_runtime, config_dir, httpserver):
    forecasts = Forecasts(httpserver)
    httpserver.expect_request("/admin").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/admin"), events=["feed.stale", "feed.recovered"])
    rt = live_runtime()
    client = create_app(rt).test_client()
    with rt.sessions.begin() as session:
        create_user(session, "ops", "viewer", None, PASSWORD, rt.config.area_codes, actor="test")
    log_in(client, "ops")
    run_cycle(rt, open_source(rt))
    assert client.get("/readyz").status_code == 200

    forecasts.down = True
    with rt.sessions.begin() as session:  # the good forecast is now older than the 12 h allowed
        session.execute(update(FeedRun).values(fetched_at=utcnow() - timedelta(hours=13)))
    for _ in range(3):
        summary = run_cycle(rt, open_source(rt))
        assert summary["feeds"]["freshness"]["forecast"]["stale"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["problems"][0].startswith("feed forecast stale since")
    assert "天气预报 已过期" in client.get("/").get_data(as_text=True)

    forecasts.down = False
    run_cycle(rt, open_source(rt))
    assert client.get("/readyz").status_code == 200

    admin = received_events(httpserver, "/admin")
    assert [(e["type"], e["data"]["feed"]) for e in admin] == [("feed.stale", "forecast"), ("feed.recovered", "forecast")]
    assert admin[0]["data"]["max_age_h"] == 12


def test_qweather_daily_forecasts_and_warnings_drive_a_cycle(make_runtime, config_dir, httpserver):
    import re
    from tests.emulators import qweather_alert_handler, qweather_daily_handler
    keep_only_jilin(config_dir)
    httpserver.expect_request("/v7/weather/7d").respond_with_handler(qweather_daily_handler())
    httpserver.expect_request(re.compile("^/weatheralert/v1/current/")).respond_with_handler(
        qweather_alert_handler(alerting_lat=43.86))
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace('forecast = "open-meteo"', 'forecast = "qweather"')
                        .replace('warnings = ""  ', 'warnings = "qweather"  '))
    rt = make_runtime(COLDWARN_SCENARIO="", COLDWARN_QWEATHER_API_HOST=httpserver.url_for("/").rstrip("/"),
                      COLDWARN_QWEATHER_API_KEY="test-key")
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert summary["feeds"]["rejected"] == [] and summary["regions_assessed"] == 60  # every Jilin county
    assert set(open_alerts(rt).values()) == {"orange"}  # 14 degC drop to -19 with a level-6 wind
    assert summary["official_warnings"] == 1  # 南关区 (43.864 N) only
    assert {req.headers.get("X-QW-Api-Key") for req, _ in httpserver.log} == {"test-key"}


def test_cap_warnings_and_nbs_cpi_from_urls(live_runtime, config_dir, httpserver):
    from tests.unit.test_warning_feeds import CAP
    Forecasts(httpserver)
    httpserver.expect_request("/cap.xml").respond_with_data(
        CAP.format(msg_type="Alert", references="").replace("2026-01-22T08:00:00", "2099-01-22T08:00:00"),
        content_type="application/xml")
    httpserver.expect_request("/cpi.csv").respond_with_data(
        "area_code,month,cpi_index,food_cpi_index,released_on\n220000,2025-12,101.9,106.4,2026-01-16\n")
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace('warnings = ""  ', 'warnings = "cap"  ')
                        .replace('cap_url = ""', f'cap_url = "{httpserver.url_for("/cap.xml")}"')
                        .replace('format = "csv"', 'format = "nbs"'))
    rt = live_runtime(COLDWARN_CPI_URL=httpserver.url_for("/cpi.csv"))
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert summary["feeds"]["rejected"] == []
    assert summary["official_warnings"] == 1
    assert summary["subsidies"]["started"] == 60  # every Jilin county: food +6.4 % (index 106.4)
