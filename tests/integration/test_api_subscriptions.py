"""Subscriptions and deliveries through the API: scope, validation, secrets never echoed, replay."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from warning.cycle import run_cycle
from warning.models import AuditEntry, OutboxMessage
from warning.sources import open_source
from tests.conftest import TEST_SECRET

ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=6a1f-secret-robot-key"


def webhook(name: str, url: str, regions: list[str], **extra) -> dict:
    return {"name": name, "url": url, "secrets": [TEST_SECRET], "regions": regions, **extra}


@pytest.mark.parametrize("who, regions, events, allowed", [
    ("root", [], None, True),
    ("root", ["220000"], ["feed.stale"], True),
    ("jilin", ["220000"], None, True),
    ("jilin", ["220102", "220800"], None, True),
    ("jilin", [], None, False),  # everywhere is beyond a province
    ("jilin", ["110000"], None, False),
    ("jilin", ["220000"], ["feed.stale"], False),  # admin events are for admins
    ("beijing", ["220102"], None, False),
    ("nanguan", ["220102"], None, True),
    ("nanguan", ["220100"], None, False),  # its prefecture is more than its county
    ("watcher", ["220102"], None, False),
])
def test_who_may_subscribe_to_what(api, who, regions, events, allowed):
    body = {"name": f"by-{who}", "channel": "wecom", "url": ROBOT, "regions": regions}
    if events:
        body["events"] = events
    response = api("POST", "/api/v1/subscriptions", who, json=body)
    assert response.status_code == (201 if allowed else 403), response.json
    if allowed:
        assert response.json["url"].endswith("key=***") and "secrets" not in response.json


def test_subscriptions_are_listed_by_scope_without_secrets(api):
    national = api("POST", "/api/v1/subscriptions", "root", json=webhook("national", "https://a.example/h", [], batch=100))
    assert national.status_code == 201 and national.json["batch"] == 100
    assert api("POST", "/api/v1/subscriptions", "jilin",
               json={"name": "jilin-robot", "channel": "wecom", "url": ROBOT, "regions": ["220000"]}).status_code == 201
    names = {who: [s["name"] for s in api("GET", "/api/v1/subscriptions", who).json["items"]]
             for who in ("root", "jilin", "beijing", "nanguan", "watcher")}
    assert names == {"root": ["jilin-robot", "national"], "jilin": ["jilin-robot"], "beijing": [], "nanguan": [],
                     "watcher": ["jilin-robot", "national"]}
    listing = api("GET", "/api/v1/subscriptions", "watcher").get_data(as_text=True)
    assert TEST_SECRET not in listing and "6a1f-secret-robot-key" not in listing


def test_a_bad_subscription_is_refused_field_by_field(api):
    response = api("POST", "/api/v1/subscriptions", "root", json={"name": "x", "channel": "sms", "url": "https://a.example/s",
                                                                  "to": ["not a phone"]})
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert "phone numbers" in response.json["errors"][0]["message"]
    robot = api("POST", "/api/v1/subscriptions", "root", json={"name": "x", "channel": "wecom", "url": ROBOT, "batch": 50})
    assert robot.status_code == 422 and "only JSON and Alertmanager webhooks take events in batches" in robot.json["errors"][0]["message"]
    assert api("POST", "/api/v1/subscriptions", "root", data="[]", content_type="application/json").status_code == 400
    duplicate = webhook("twice", "https://a.example/h", [])
    assert api("POST", "/api/v1/subscriptions", "root", json=duplicate).status_code == 201
    again = api("POST", "/api/v1/subscriptions", "root", json=duplicate)
    assert again.status_code == 422 and again.json["errors"] == [{"field": "name", "message": "twice exists already"}]


def test_removing_is_scoped_and_audited(api):
    api("POST", "/api/v1/subscriptions", "jilin", json={"name": "jl", "channel": "wecom", "url": ROBOT, "regions": ["220000"]})
    assert api("DELETE", "/api/v1/subscriptions/jl", "beijing").status_code == 404  # cannot even see it
    assert api("DELETE", "/api/v1/subscriptions/jl", "watcher").status_code == 403  # sees it, cannot change it
    assert api("DELETE", "/api/v1/subscriptions/jl", "jilin").json == {"removed": "jl", "parked": 0}
    with api.rt.sessions() as session:
        actions = [(a.actor, a.action) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("jilin", "subscription.add") in actions and ("jilin", "subscription.remove") in actions


def test_parked_deliveries_are_listed_inspected_and_replayed(api, httpserver):
    httpserver.expect_request("/county").respond_with_data("no", status=400)
    body = webhook("county-hook", httpserver.url_for("/county"), ["220102"], events=["tasklist.issued"])
    assert api("POST", "/api/v1/subscriptions", "nanguan", json=body).status_code == 201
    rt = api.rt
    run_cycle(rt, open_source(rt, "demo"))
    parked = api("GET", "/api/v1/deliveries?status=parked", "nanguan").json
    assert parked["total"] >= 1 and {d["subscription"] for d in parked["items"]} == {"county-hook"}
    message_id = parked["items"][0]["message_id"]
    detail = api("GET", f"/api/v1/deliveries/{message_id}", "nanguan").json
    assert "history" in detail, detail
    assert detail["history"][0]["http_status"] == 400 and detail["attempts"] == len(detail["history"]) and detail["data"]["region"]["code"] == "220102"
    assert api("GET", f"/api/v1/deliveries/{message_id}", "beijing").status_code == 404
    assert api("GET", "/api/v1/deliveries", "beijing").json["total"] == 0
    assert api("POST", f"/api/v1/deliveries/{message_id}/replay", "watcher").status_code == 403

    assert api("POST", f"/api/v1/deliveries/{message_id}/replay", "nanguan").json == {"queued": 1}
    with rt.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).one()
    assert row.status == "pending" and row.attempts == 0
    again = api("POST", f"/api/v1/deliveries/{message_id}/replay", "nanguan")
    assert again.status_code == 409

    bad_since = api("POST", "/api/v1/subscriptions/county-hook/replay", "nanguan", json={"since": "yesterday"})
    assert bad_since.status_code == 422 and bad_since.json["errors"][0]["field"] == "since"
    everything = api("POST", "/api/v1/subscriptions/county-hook/replay", "nanguan", json={"since": "2000-01-01T00:00:00Z"})
    assert everything.json["queued"] == parked["total"] - 1
