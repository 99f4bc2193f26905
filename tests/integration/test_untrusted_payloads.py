"""No payload stops a cycle: whatever a feed sends is read or refused (with the reason, its last good
payload standing in), and nothing stored before changes because of it.

The providers are emulators on loopback (built here); the bodies are the cases seen in the field.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select
from werkzeug.wrappers import Response

from tests.conftest import keep_only_jilin
from tests.emulators import open_meteo_handler
from warning.cycle import run_cycle
from warning.feeds.http import Fetcher
from warning.feeds.live import LiveSource
from warning.models import Alert, CycleRun, FeedRun, Task
from warning.sources import open_source

CAP_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            '<identifier>X1</identifier><sender>s</sender><sent>2099-01-01T00:00:00+08:00</sent>'
            '<status>Actual</status><msgType>Alert</msgType><scope>Public</scope><info><category>Met</category>'
            '<event>寒潮</event><urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>'
            '<expires>2099-01-03T00:00:00+08:00</expires><headline>寒潮橙色预警</headline>')


def cap_for(*codes: str) -> bytes:
    areas = "".join(f"<area><areaDesc>a</areaDesc><geocode><valueName>GB/T 2260</valueName><value>{c}</value>"
                    f"</geocode></area>" for c in codes)
    return (CAP_HEAD + areas + "</info></alert>").encode()


class Switchable:
    """A provider giving good answers until told to send one body (with a status) instead."""

    def __init__(self, httpserver, path, good):
        self.good, self.bad = good, None
        httpserver.expect_request(path).respond_with_handler(self)

    def __call__(self, request):
        if self.bad is None:
            return self.good(request)
        body, status = self.bad
        return Response(body, status=status, content_type="application/json")


@pytest.fixture
def feeds(make_runtime, config_dir, httpserver):
    keep_only_jilin(config_dir)
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("max_attempts = 4", "max_attempts = 1")
                        .replace("batch_size = 100", "batch_size = 30")
                        .replace('warnings = ""  ', 'warnings = "cap"  ')
                        .replace('cap_url = ""', f'cap_url = "{httpserver.url_for("/cap.xml")}"'))
    forecast = Switchable(httpserver, "/v1/forecast", open_meteo_handler(cold=True))
    warnings = Switchable(httpserver, "/cap.xml", lambda request: Response(cap_for("220102")))
    rt = make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"))
    return rt, forecast, warnings


def stored(rt) -> tuple[list, dict]:
    """Alerts as they stand, and every task by id (a daily visit falling due may add one, nothing more)."""
    with rt.sessions() as session:
        alerts = sorted(session.execute(select(Alert.id, Alert.region_code, Alert.hazard, Alert.level,
                                               Alert.status, Alert.onset, Alert.evidence)).all())
        tasks = {t.id: (t.type, t.status, t.due_at, t.quantities) for t in session.scalars(select(Task))}
        return alerts, tasks


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("feed, body, status, reason", [
    ("forecast", b"[" * 1000 + b"]" * 1000, 200, "expected 30 locations in request order"),
    ("forecast", DEEP, 200, "not valid JSON: nested too deeply"),
    ("forecast", b"[" + b",".join([b'{"hourly": {"time": ["2026-01-19T00:00"], "temperature_2m": [1' + b"0" * 400
     + b'], "wind_speed_10m": [1]}, "hourly_units": {"temperature_2m": "\xc2\xb0C", "wind_speed_10m": "km/h"}}'] * 30)
     + b"]", 200, "temperature_2m: non-numeric values"),  # 10^400: beyond any float
    ("forecast", b'[{"timezone": "GMT\xff"}]', 200, "not valid JSON: 'utf-8' codec can't decode byte 0xff"),
    ("forecast", b'{"error": true, "reason": "Latitude must be in range of -90 to 90"}', 200,
     "the provider answered with an error: Latitude must be in range of -90 to 90"),
    ("forecast", b'{"error": true, "reason": "Cannot initialize WeatherVariable from invalid String value x"}', 400,
     "HTTP 400: Cannot initialize WeatherVariable from invalid String value x"),
    ("warnings", DEEP.replace(b"[", b"<a>").replace(b"]", b"</a>"), 200, "no CAP 1.2 <alert> element"),
    ("warnings", b'<?xml version="1.0" encoding="x-klingon"?><alert/>', 200, "unknown encoding 'x-klingon'"),
    ("warnings", b'<?xml version="1.0" encoding="GB2312"?><alert>\xff\xff</alert>', 200, "not valid GB2312"),
    ("warnings", b'<!DOCTYPE a [<!ENTITY b "c">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&b;</alert>',
     200, "DOCTYPE and entities are not allowed"),
])
def test_a_bad_payload_is_refused_and_the_cycle_goes_on_with_what_was_stored(feeds, feed, body, status, reason):
    rt, forecast, warnings = feeds
    first = run_cycle(rt, open_source(rt), deliver=False)
    assert first["feeds"]["rejected"] == [] and first["official_warnings"] == 1
    before = stored(rt)

    (forecast if feed == "forecast" else warnings).bad = (body, status)
    second = run_cycle(rt, open_source(rt), deliver=False)

    refused = second["feeds"]["rejected"]
    assert refused and all(reason in r for r in refused), refused
    assert second["feeds"]["fallbacks"] == len(refused)  # each stood in for by its last good payload
    alerts, tasks = stored(rt)
    assert alerts == before[0] and {i: tasks[i] for i in before[1]} == before[1]
    with rt.sessions() as session:
        assert set(session.scalars(select(CycleRun.status))) == {"ok"}
        runs = session.scalars(select(FeedRun).where(FeedRun.cycle_id == second["cycle_id"],
                                                     FeedRun.status != "ok")).all()
    assert runs and all(r.fallback_from for r in runs)


@pytest.mark.parametrize("codes, warned", [
    (("229999",), set()),                          # a county that does not exist: no KeyError, no alert
    (("220100000000",), "220100"),                 # a prefecture: each of its counties
    (("220000", "006109"), "22"),                  # a province (and a stray six-digit value): every county
])
def test_a_warning_for_an_area_stands_for_each_county_in_it(feeds, codes, warned):
    rt, _, warnings = feeds
    warnings.good = lambda request: Response(cap_for(*codes))
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert summary["feeds"]["rejected"] == []
    with rt.sessions() as session:
        regions = set(session.scalars(select(Alert.region_code).where(Alert.hazard == "official")))
    jilin = set(rt.config.regions["code"])
    assert regions == ({c for c in jilin if c.startswith(warned[:4] if len(warned) == 6 else warned)}
                       if warned else set())


def test_a_body_over_the_limit_is_refused_while_it_streams_in(feeds, httpserver):
    rt, _, warnings = feeds
    sent = []

    def endless(request):
        def chunks():
            for _ in range(400):  # 400 x 64 KiB = 25 MiB offered
                sent.append(1)
                yield b" " * 65536
        return Response(chunks(), content_type="application/xml")
    warnings.good = endless
    source = open_source(rt)
    source.fetcher = Fetcher(requests.Session(), max_attempts=1, max_bytes=1024 * 1024)
    summary = run_cycle(rt, source, deliver=False)
    [refused] = summary["feeds"]["rejected"]
    assert "payload exceeds 1048576 bytes (refused while it streamed in)" in refused
    assert len(sent) < 100  # it stopped reading, it did not take the 25 MiB and then refuse it
    assert isinstance(source, LiveSource)


def test_a_forecast_padded_past_its_horizon_is_cut_and_said(feeds):
    rt, forecast, _ = feeds
    good = forecast.good

    def padded(request):
        import orjson
        body = orjson.loads(good(request).get_data())
        for location in body:
            for variable in ("temperature_2m", "wind_speed_10m"):
                location["hourly"][variable][-48:] = [None] * 48
        return Response(orjson.dumps(body), content_type="application/json")
    forecast.good = padded
    summary = run_cycle(rt, open_source(rt), deliver=False)
    assert summary["feeds"]["rejected"] == [] and summary["regions_assessed"] == 60
    notes = summary["feeds"]["notes"]
    assert len(notes) == 60 and all("values end 48 h before the time axis" in n for n in notes)
    with rt.sessions() as session:
        kept = [r.notes for r in session.scalars(select(FeedRun).where(FeedRun.feed == "forecast"))]
    assert all(n and n.count("\n") == 29 for n in kept)  # 30 locations a request, one line each
