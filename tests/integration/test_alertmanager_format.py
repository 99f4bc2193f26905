"""`format: alertmanager`: alerts in Alertmanager's webhook payload (version 4), grouped by the
subscription's batch setting and signed like every webhook, so receivers built for Alertmanager —
a DingTalk bridge here — take them unchanged. The schema in tests/contracts/ is written from
Alertmanager's documentation; a published v4 sample validates against it too."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import jsonschema
import pytest
import yaml
from standardwebhooks.webhooks import Webhook

from tests.conftest import TEST_SECRET, received_events
from warning.cycle import run_cycle
from warning.manual_alerts import decide
from warning.sources import open_source

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"
SCHEMA = json.loads((CONTRACTS / "alertmanager-webhook-v4.schema.json").read_text(encoding="utf-8"))
CONSOLE = "https://coldwarn.mca.example"


def subscribe(config_dir, httpserver, **alertmanager) -> None:
    (config_dir / "subscriptions.yaml").write_text(yaml.safe_dump({"subscriptions": [
        {"name": "json", "url": httpserver.url_for("/json"), "secrets": [TEST_SECRET]},
        {"name": "oncall", "url": httpserver.url_for("/am"), "secrets": [TEST_SECRET], "format": "alertmanager",
         **alertmanager}]}), encoding="utf-8")


def payloads(httpserver) -> list[dict]:
    """Each Alertmanager body received, its signature verified with the Standard Webhooks library."""
    bodies = []
    for request, _ in httpserver.log:
        if request.path == "/am":
            bodies.append(Webhook(TEST_SECRET).verify(request.get_data(), dict(request.headers)))
    return bodies


def test_the_schema_accepts_what_alertmanager_itself_sends():
    """Sample v4 payload published with the alertmanager-webhook-types crate (docs.rs,
    assets/sample-v4-payload.json), as Alertmanager 0.25 sent it."""
    sample = json.loads((CONTRACTS / "alertmanager-sample-v4.json").read_text(encoding="utf-8"))
    jsonschema.validate(sample, SCHEMA, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def delivered(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/json").respond_with_data("ok")
    httpserver.expect_request("/am").respond_with_data("ok")
    subscribe(config_dir, httpserver, batch=10)
    rt = make_runtime(COLDWARN_CONSOLE_URL=CONSOLE)
    run_cycle(rt, open_source(rt, "demo"))
    return rt


def test_every_alert_arrives_as_an_alertmanager_alert_grouped_ten_to_a_post(delivered, httpserver):
    bodies = payloads(httpserver)
    for body in bodies:
        jsonschema.validate(body, SCHEMA, format_checker=jsonschema.FormatChecker())
    alerts = [alert for body in bodies for alert in body["alerts"]]
    issued = [e["data"] for e in received_events(httpserver, "/json") if e["type"] == "alert.issued"]
    assert len(alerts) == len(issued) > 10 and len(bodies) == -(-len(alerts) // 10)  # tasks and subsidies not sent
    assert sorted((a["labels"]["region"], a["labels"]["hazard"], a["labels"]["level"]) for a in alerts) == sorted(
        (d["region"]["code"], d["hazard"], d["level"]) for d in issued)
    by_key = {(d["region"]["code"], d["hazard"]): d for d in issued}
    for alert in alerts:
        data = by_key[(alert["labels"]["region"], alert["labels"]["hazard"])]
        assert alert["status"] == "firing" and alert["labels"]["stage"] == data["stage"]
        assert alert["startsAt"] == data["onset"] and alert["endsAt"] == data["ends"]
        assert alert["annotations"]["description"] == data["evidence"]["zh"]  # the subscription's language
        assert data["region"]["name"] in alert["annotations"]["summary"] and "预警" in alert["annotations"]["summary"]
        assert alert["generatorURL"] == f"{CONSOLE}/regions/{data['region']['code']}"
    assert len({a["fingerprint"] for a in alerts}) == len(alerts)
    assert {b["receiver"] for b in bodies} == {"oncall"} and {b["status"] for b in bodies} == {"firing"}


def test_a_stand_down_resolves_the_same_fingerprint(delivered, httpserver):
    rt = delivered
    firing = [a for body in payloads(httpserver) for a in body["alerts"]]
    target = firing[0]
    with rt.sessions.begin() as session:
        decide(session, rt.config.region_codes, region_code=target["labels"]["region"],
               hazard=target["labels"]["hazard"], action="stand_down", level=None, reason="drill", actor="test",
               hours=24)
    run_cycle(rt, open_source(rt, "demo"))
    resolved = [(body, a) for body in payloads(httpserver) for a in body["alerts"] if a["status"] == "resolved"]
    assert [a["fingerprint"] for _, a in resolved] == [target["fingerprint"]]
    body, alert = resolved[0]
    assert body["status"] == "resolved" and alert["endsAt"] > target["startsAt"]
    jsonschema.validate(body, SCHEMA, format_checker=jsonschema.FormatChecker())


def test_a_dingtalk_bridge_renders_the_body_as_it_would_alertmanagers(delivered, httpserver):
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (CONTRACTS / "dingtalk-bridge.md.j2").read_text(encoding="utf-8"))
    body = payloads(httpserver)[0]
    text = template.render(**body, firing=[a for a in body["alerts"] if a["status"] == "firing"],
                           resolved=[a for a in body["alerts"] if a["status"] == "resolved"])
    assert text.startswith(f"#### \\[FIRING:{len(body['alerts'])}\\]")
    for alert in body["alerts"]:
        assert f"\\[{alert['labels']['severity'].upper()}\\] {alert['annotations']['summary']}" in text
        assert f"**Description:** {alert['annotations']['description']}" in text
        assert f"> - region: {alert['labels']['region']}" in text
