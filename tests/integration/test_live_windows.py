"""Live Open-Meteo requests ask for the local days the longest rule window needs, in any zone.

The provider is an emulator of Open-Meteo's forecast API (built here): it answers in the documented
shape (timezone=GMT, hourly time axis from UTC midnight `past_days` days ago) with daily minima
designed per local day, so the outcome is known by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import orjson
import requests
from sqlalchemy import select
from werkzeug.wrappers import Response

from tests.conftest import keep_only_jilin
from warning.cycle import run_cycle
from warning.feeds.http import Fetcher
from warning.feeds.live import LiveSource
from warning.models import Alert

NOW = datetime(2026, 1, 19, 2, 0, tzinfo=timezone.utc)  # 10:00 on 19 Jan in Beijing
BEIJING = timedelta(hours=8)
# Daily minima by local day (0 = 19 Jan): 24/48/72 h drops of day 0 are 6, 9 and 13 degC, so only the
# 72 h window reaches GB/T 21987's 寒潮 (12 degC, minimum at most 4 degC), and only if 16 Jan is seen.
MINIMA = {-3: 10.0, -2: 6.0, -1: 3.0}
AFTER = -3.0


def handler(request):
    past, days = int(request.args["past_days"]), int(request.args["forecast_days"])
    start = datetime(NOW.year, NOW.month, NOW.day) - timedelta(days=past)  # UTC midnight, as Open-Meteo
    hours = [start + timedelta(hours=h) for h in range((past + days) * 24)]
    local_today = (NOW + BEIJING).date()
    minima = np.array([MINIMA.get(((t + BEIJING).date() - local_today).days, AFTER) for t in hours])
    local_hour = np.array([(t + BEIJING).hour for t in hours])
    temps = minima + np.where((local_hour >= 4) & (local_hour <= 6), 0.0, 5.0)  # coldest just before dawn
    n = len(request.args["latitude"].split(","))
    location = {"latitude": 43.875, "longitude": 125.375, "utc_offset_seconds": 0, "timezone": "GMT",
                "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "wind_speed_10m": "km/h"},
                "hourly": {"time": [t.strftime("%Y-%m-%dT%H:%M") for t in hours],
                           "temperature_2m": temps.tolist(), "wind_speed_10m": [5.0] * len(hours)}}
    return Response(orjson.dumps([location] * n if n > 1 else location), content_type="application/json")


def test_a_72_hour_drop_reaching_back_past_the_first_gmt_day_fires_on_day_0(make_runtime, config_dir, httpserver):
    keep_only_jilin(config_dir)
    settings = config_dir / "settings.toml"
    # Even a configuration asking for fewer past days gets what the rules need.
    settings.write_text(settings.read_text().replace("past_days = 4 ", "past_days = 2 "))
    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)
    rt = make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"))
    source = LiveSource(rt.settings.feeds, Fetcher(requests.Session()), clock=lambda: NOW)
    summary = run_cycle(rt, source, deliver=False)

    assert summary["feeds"]["rejected"] == [] and summary["regions_assessed"] == 60
    assert {req.args["past_days"] for req, _ in httpserver.log} == {"4"}
    with rt.sessions() as session:
        alerts = session.scalars(select(Alert).where(Alert.hazard == "cold_wave_grade")).all()
    assert len(alerts) == 60 and {a.level for a in alerts} == {"blue"}
    evidence = alerts[0].evidence
    assert (evidence["values"]["day"], evidence["values"]["drop_72h_c"]) == ("2026-01-19", 13.0)
    assert "data_hours" not in evidence["values"] and "缺少" not in evidence["zh"]
