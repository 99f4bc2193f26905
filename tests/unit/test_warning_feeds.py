"""Official warnings (QWeather, CAP 1.2), QWeather daily forecasts and CPI formats, normalised."""

from __future__ import annotations

import json

import pytest

from warning.feeds import FeedRejected
from warning.feeds.cap import parse_cap
from warning.feeds.cpi import parse_cpi_csv, parse_cpi_json, parse_nbs_index
from warning.feeds.qweather import parse_qweather_alerts, parse_qweather_daily
from warning.feeds.warnings import active_warnings
from tests.unit.helpers import at


def qweather_alert(id_, kind="alert", code="1005", colour="blue", supersedes=(), expires="2026-01-22T08:00+08:00"):
    return {"id": id_, "senderName": "长春市气象台", "issuedTime": "2026-01-19T07:30+08:00",
            "messageType": {"code": kind, "supersedes": list(supersedes)},
            "eventType": {"name": "寒潮", "code": code}, "urgency": None, "severity": "minor",
            "certainty": None, "icon": code, "color": {"code": colour, "red": 30, "green": 50, "blue": 205, "alpha": 1},
            "effectiveTime": "2026-01-19T07:30+08:00", "onsetTime": "2026-01-19T07:30+08:00",
            "expireTime": expires, "headline": "长春市气象台发布寒潮蓝色预警"}


def alerts_payload(*alerts):
    return json.dumps({"metadata": {"tag": "x", "zeroResult": not alerts}, "alerts": list(alerts)}).encode()


def test_qweather_alerts_keep_cold_events_in_utc():
    frame = parse_qweather_alerts(alerts_payload(qweather_alert("a1"), qweather_alert("w1", code="1006")), "220102", "qw")
    assert frame["warning_id"].tolist() == ["a1"]  # 1006 (wind) is not a cold-weather event
    row = frame.iloc[0]
    assert (row.event_code, row.colour, row.msg_type, row.region_code) == ("1005", "blue", "alert", "220102")
    assert row.sent == at("2026-01-18T23:30:00")


def test_updates_supersede_and_cancels_remove():
    frame = parse_qweather_alerts(alerts_payload(
        qweather_alert("a1"), qweather_alert("a2", "update", colour="yellow", supersedes=["a1"]),
        qweather_alert("b1", code="1016"), qweather_alert("b2", "cancel", code="1016", supersedes=["b1"]),
        qweather_alert("c1", code="1059", expires="2026-01-19T09:00+08:00")), "220102", "qw")
    active = active_warnings(frame, at("2026-01-19T02:00:00"))
    assert active["warning_id"].tolist() == ["a2"]  # a1 superseded, b1 cancelled, c1 expired at 01:00 UTC


def test_no_warnings_is_an_empty_table_not_an_error():
    assert parse_qweather_alerts(alerts_payload(), "220102", "qw").empty


def test_qweather_daily_converts_wind_and_checks_days():
    payload = {"code": "200", "daily": [
        {"fxDate": "2026-01-19", "tempMax": "-8", "tempMin": "-17", "windSpeedDay": "36", "windSpeedNight": "45"},
        {"fxDate": "2026-01-20", "tempMax": "-12", "tempMin": "-29", "windSpeedDay": "20", "windSpeedNight": "9"}]}
    frame = parse_qweather_daily(json.dumps(payload).encode(), "220102", "qw")
    assert frame["tmin"].tolist() == [-17.0, -29.0] and frame["wind_max_ms"].round(1).tolist() == [12.5, 5.6]
    payload["daily"][1]["fxDate"] = "2026-01-18"
    with pytest.raises(FeedRejected, match="days must strictly increase"):
        parse_qweather_daily(json.dumps(payload).encode(), "220102", "qw")
    with pytest.raises(FeedRejected, match="code: QWeather answered '401'"):
        parse_qweather_daily(b'{"code": "401"}', "220102", "qw")


CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>22010241600000_20260119073000</identifier>
  <sender>长春市气象台</sender>
  <sent>2026-01-19T07:30:00+08:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <category>Met</category>
    <event>寒潮</event>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <onset>2026-01-20T08:00:00+08:00</onset>
    <expires>2026-01-22T08:00:00+08:00</expires>
    <headline>长春市气象台发布寒潮橙色预警信号</headline>
    <area><areaDesc>南关区</areaDesc><geocode><valueName>GB/T 2260</valueName><value>220102</value></geocode></area>
  </info>
</alert>"""


def test_cap_alert_is_normalised():
    frame = parse_cap(CAP.format(msg_type="Alert", references="").encode(), "cap")
    row = frame.iloc[0]
    assert (row.region_code, row.event_code, row.colour, row.severity, row.msg_type) == (
        "220102", "1005", "orange", "moderate", "alert")
    assert row.onset == at("2026-01-20T00:00:00") and row.expires == at("2026-01-22T00:00:00")


def test_cap_cancel_references_the_earlier_message():
    cancel = CAP.format(msg_type="Cancel", references="<references>长春市气象台,22010241600000_20260119073000,"
                        "2026-01-19T07:30:00+08:00</references>").replace("20260119073000</identifier>", "X</identifier>")
    frame = parse_cap(f"<feed>{CAP.format(msg_type='Alert', references='')[38:]}{cancel[38:]}</feed>".encode(), "cap")
    assert len(frame) == 2 and active_warnings(frame, at("2026-01-19T02:00:00")).empty


@pytest.mark.parametrize("payload, reason", [
    (b"<alert", "not well-formed XML"),
    (b'<!DOCTYPE a [<!ENTITY x "y">]><alert/>', "DOCTYPE and entities are not allowed"),
    (b"<alert/>", "no CAP 1.2 <alert> element"),
    (CAP.format(msg_type="Alert", references="").replace("<sent>2026-01-19T07:30:00+08:00</sent>", "").encode(),
     "<sent> missing"),
])
def test_bad_cap_is_refused(payload, reason):
    with pytest.raises(FeedRejected, match=reason):
        parse_cap(payload, "cap")


def test_cpi_formats_agree():
    csv_rows = b"area_code,month,cpi_yoy,food_cpi_yoy,released_on\n220000,2025-12,1.9,6.4,2026-01-16\n"
    nbs_rows = b"area_code,month,cpi_index,food_cpi_index,released_on\n220000,2025-12,101.9,106.4,2026-01-16\n"
    json_rows = json.dumps([{"area_code": "220000", "month": "2025-12", "cpi_yoy": 1.9, "food_cpi_yoy": "6.4",
                             "released_on": "2026-01-16"}]).encode()
    frames = [parse_cpi_csv(csv_rows, "c"), parse_nbs_index(nbs_rows, "n"), parse_cpi_json(json_rows, "j")]
    assert all(f.to_dict("records") == frames[0].to_dict("records") for f in frames)
    assert frames[0].iloc[0].released_on == at("2026-01-15T16:00:00")  # 16 Jan in Beijing


@pytest.mark.parametrize("payload, reason", [
    (b"area_code,month,cpi_yoy,food_cpi_yoy,released_on\n220000,2025-13,1.9,6.4,2026-01-16\n", "column month: must be a month"),
    (b"area_code,month,cpi_yoy,food_cpi_yoy,released_on\n220000,2025-12,190,6.4,2026-01-16\n", "between -50 and 100"),
    (b"area_code,month,cpi_yoy,food_cpi_yoy,released_on\n220000,2025-12,1.9,6.4,2025-12-16\n", "released_on must be after"),
    (b"area_code,month,cpi_yoy,food_cpi_yoy,released_on\n220000,2025-12,1.9,6.4,2026-01-16\n"
     b"220000,2025-12,1.9,6.4,2026-01-16\n", "appears twice"),
])
def test_bad_cpi_is_refused(payload, reason):
    with pytest.raises(FeedRejected, match=reason):
        parse_cpi_csv(payload, "cpi.csv")


def test_nbs_index_must_look_like_an_index():
    with pytest.raises(FeedRejected, match="last year = 100 must lie between 50 and 200"):
        parse_nbs_index(b"area_code,month,cpi_index,food_cpi_index,released_on\n220000,2025-12,1.9,6.4,2026-01-16\n", "n")
