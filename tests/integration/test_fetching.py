"""Fetching from providers over real HTTP on loopback: retries, timeouts, refusals."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests
from werkzeug.wrappers import Response

from warning.feeds.http import Fetcher, FetchFailed
from warning.feeds.live import LiveSource
from warning.settings import FeedSettings
from tests.emulators import open_meteo_handler

class Sleeps(list):
    """Records the waits instead of spending them (time is the edge we fake)."""

    def __call__(self, seconds):
        self.append(seconds)


def fetcher(**kw):
    return Fetcher(requests.Session(), **({"connect_timeout_s": 2, "read_timeout_s": 2, "max_attempts": 3,
                                           "backoff_s": 0.01, "sleep": Sleeps()} | kw))


def failing_then(httpserver, failures: list[Response], then: Response, path="/x"):
    for failure in failures:
        httpserver.expect_ordered_request(path).respond_with_response(failure)
    httpserver.expect_ordered_request(path).respond_with_response(then)


def test_5xx_is_retried_until_it_succeeds(httpserver):
    failing_then(httpserver, [Response("busy", 500), Response("busy", 503)], Response("payload"))
    got = fetcher().get(httpserver.url_for("/x"))
    assert (got.payload, got.attempts) == (b"payload", 3)


def test_429_waits_as_long_as_retry_after_says(httpserver):
    failing_then(httpserver, [Response("slow down", 429, headers={"Retry-After": "7"})], Response("ok"))
    f = fetcher()
    assert f.get(httpserver.url_for("/x")).attempts == 2
    assert f.sleep == [7.0]


def test_other_4xx_are_not_retried(httpserver):
    httpserver.expect_request("/x").respond_with_data("no such key", status=401)
    with pytest.raises(FetchFailed) as caught:
        fetcher().get(httpserver.url_for("/x"))
    assert caught.value.attempts == 1 and "HTTP 401: no such key" in caught.value.reason
    assert len(httpserver.log) == 1


def test_a_hang_past_the_read_timeout_is_retried_then_reported(httpserver):
    def hang(_request):
        time.sleep(1.5)
        return Response("too late")
    httpserver.expect_request("/x").respond_with_handler(hang)
    with pytest.raises(FetchFailed) as caught:
        fetcher(read_timeout_s=0.3, max_attempts=2).get(httpserver.url_for("/x"))
    assert caught.value.attempts == 2 and "timed out after 0.3 s (after 2 attempts)" in str(caught.value)


def test_a_refused_connection_is_reported():
    with pytest.raises(FetchFailed, match="connection failed"):
        fetcher(max_attempts=2).get("http://127.0.0.1:9/nothing-listens")


@pytest.fixture
def regions():
    from warning.config import load_regions
    from warning.settings import SHIPPED_CONFIG_DIR
    frame = load_regions(SHIPPED_CONFIG_DIR / "regions" / "regions.csv")
    return frame[frame["province_code"] == "220000"].reset_index(drop=True)


def live(httpserver, parallel=4, **settings) -> LiveSource:
    feeds = FeedSettings.model_validate({"open_meteo": {"url": httpserver.url_for("/v1/forecast"), "batch_size": 25},
                                         **settings})
    return LiveSource(feeds, fetcher(), parallel=parallel)


def test_open_meteo_is_asked_in_batches_with_the_right_parameters(httpserver, regions):
    httpserver.expect_request("/v1/forecast").respond_with_handler(open_meteo_handler())
    pulled = live(httpserver).pull(regions)
    assert [p.ok for p in pulled] == [True, True, True]  # Jilin's 60 counties in batches of 25
    grid = pulled[0].data
    assert len(grid.codes) == 25 and pulled[0].rows == grid.cells() == 25 * (4 + 10) * 24  # 4 past days in GMT, 10 ahead
    # (a hung request from an earlier test may still land in the log: look at ours only)
    asked = [req.args for req, _ in httpserver.log if req.path == "/v1/forecast"]
    for args in asked:
        assert (args["timezone"], args["models"], args["past_days"], args["forecast_days"]) == ("GMT", "best_match", "4", "10")
        # only what a rule reads (ground temperature for frost, apparent temperature for shelters)
        assert args["hourly"] == "temperature_2m,apparent_temperature,wind_speed_10m,soil_temperature_0cm"
    # batches run in parallel, so they arrive in any order
    assert Counter(len(args["latitude"].split(",")) for args in asked) >= Counter({25: 2, 10: 1})


@pytest.mark.parametrize("mangle, reason", [
    (lambda body: body[:-5], "not valid JSON"),
    (lambda body: json.dumps([{**loc, "hourly_units": {**loc["hourly_units"], "wind_speed_10m": "mph!"}}
                              for loc in json.loads(body)]), "hourly_units.wind_speed_10m: unit 'mph!'"),
    (lambda body: json.dumps([{**loc, "hourly": {k: [] for k in loc["hourly"]}} for loc in json.loads(body)]),
     "hourly.time: missing or empty"),
    (lambda body: json.dumps(json.loads(body)[:-1]), "expected 25 locations in request order, got 24"),
])
def test_a_bad_payload_fails_only_its_batch(httpserver, regions, mangle, reason):
    good = open_meteo_handler()
    calls = []

    def handler(request):
        calls.append(1)
        response = good(request)
        return Response(mangle(response.get_data(as_text=True)), content_type="application/json") \
            if len(calls) == 1 else response
    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)
    pulled = live(httpserver, parallel=1).pull(regions)  # one at a time: the first batch gets the bad answer
    assert [p.ok for p in pulled] == [False, True, True]
    assert reason in pulled[0].error and pulled[0].attempts == 1  # a bad payload is not retried


def test_a_feed_trickling_its_answer_is_cut_at_the_deadline_of_the_whole_request():
    from notifiers.http import HttpSession
    from tests.emulators import RawServer
    server = RawServer([(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n", b"[" + b" " * 38 + b"]")], every_s=0.5)
    try:
        fetch = Fetcher(HttpSession(), connect_timeout_s=1, read_timeout_s=2, max_attempts=2, backoff_s=0.01,
                        sleep=Sleeps())
        with pytest.raises(FetchFailed) as caught:
            fetch.get(server.url)
        # every read came within 0.5 s, so only a deadline on the whole request ends it: 3 s, not 20
        assert str(caught.value) == "no complete answer within the 3 s deadline (after 2 attempts)"
        assert caught.value.elapsed_ms < 2 * 3000 + 2000 and server.requests == 2
    finally:
        server.close()
