"""A deployment whose regions are townships (nine-digit codes): stored, scoped to their county's users,
sent to their county's subscribers, and shown like any region."""

from __future__ import annotations

import pytest

from warning.cycle import run_cycle
from warning.sources import open_source
from tests.conftest import read_regions, received_events, write_regions, write_subscription
from tests.emulators import open_meteo_handler, synthetic_townships

OWN = "220102"  # the api fixture's county user nanguan is 220102's
COUNTIES = (OWN, "220802", "110101")  # (and its province users are Jilin's and Beijing's)


@pytest.fixture
def townships(config_dir, httpserver):
    counties = [r for r in read_regions(config_dir) if r["code"] in COUNTIES]
    write_regions(config_dir, synthetic_townships(counties, 9))
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace('scenario = "demo"', 'scenario = ""').replace(
        "https://api.open-meteo.com/v1/forecast", httpserver.url_for("/v1/forecast")))
    httpserver.expect_request("/v1/forecast").respond_with_handler(open_meteo_handler(cold=True))
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"), regions=[OWN], events=["alert.issued"])
    return {r["code"] for r in read_regions(config_dir)}


def open_alert_codes(api, who: str, query: str = "") -> set[str]:
    answer = api("GET", f"/api/v1/alerts?status=open&per_page=200{query}", who)
    assert answer.status_code == 200, answer.json
    return {a["region"]["code"] for a in answer.json["items"]}


def test_township_alerts_are_stored_scoped_and_sent_to_their_county(townships, api, httpserver):
    own = {code for code in townships if code.startswith(OWN)}
    assert len(townships) == 9 and len(own) == 3 and all(len(code) == 9 for code in townships)

    summary = run_cycle(api.rt, open_source(api.rt))
    assert summary["regions_assessed"] == 9 and summary["feeds"]["rejected"] == []
    assert open_alert_codes(api, "root") == townships
    assert open_alert_codes(api, "root", f"&region={OWN}") == own  # a county names its townships
    assert open_alert_codes(api, "nanguan") == own  # the county's own user sees its townships, no others
    assert open_alert_codes(api, "jilin") == {code for code in townships if code.startswith("22")}
    assert {e["data"]["region"]["code"] for e in received_events(httpserver, "/hook")} == own

    township = min(own)
    page = api("GET", f"/api/v1/regions/{township}", "nanguan")
    assert page.status_code == 200 and page.json["code"] == township and page.json["alerts"]
    assert api("GET", f"/api/v1/regions/{min(townships - own)}", "nanguan").status_code in (403, 404)
