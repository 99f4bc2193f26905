"""Subscribers that take batches: several events per signed POST, with nothing lost, reordered or
told apart from what a subscriber taking them one by one gets."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select
from werkzeug.wrappers import Response

from warning.cycle import run_cycle
from warning.delivery import drain
from warning.events import Outbox
from warning.models import DeliveryAttempt, OutboxMessage, Subscription, utcnow
from warning.sources import open_source
from tests.conftest import TEST_SECRET, received_events, write_subscription


def subscribe(config_dir, *entries: dict) -> None:
    (config_dir / "subscriptions.yaml").write_text(yaml.safe_dump({"subscriptions": [
        {"secrets": [TEST_SECRET], **entry} for entry in entries]}), encoding="utf-8")


def without_id(event: dict) -> dict:
    return {key: value for key, value in event.items() if key != "id"}


def test_a_batch_subscriber_gets_what_a_single_one_gets_in_order_in_fewer_signed_posts(
        make_runtime, config_dir, httpserver):
    httpserver.expect_request("/single").respond_with_data("ok")
    httpserver.expect_request("/batched").respond_with_data("ok")
    subscribe(config_dir, {"name": "single", "url": httpserver.url_for("/single")},
              {"name": "batched", "url": httpserver.url_for("/batched"), "batch": 7})
    rt = make_runtime()
    summary = run_cycle(rt, open_source(rt, "demo"))
    single, batched = received_events(httpserver, "/single"), received_events(httpserver, "/batched")
    posts = [request for request, _ in httpserver.log if request.path == "/batched"]
    assert [without_id(event) for event in batched] == single and len(single) > 7
    assert len(posts) == -(-len(batched) // 7)  # full batches but the last
    assert summary["deliveries"]["delivered"] == 2 * len(single)
    with rt.sessions() as session:  # each event is its own message, with its own id and its own attempt
        rows = session.execute(select(OutboxMessage.message_id, OutboxMessage.status).join(Subscription)
                               .where(Subscription.name == "batched").order_by(OutboxMessage.id)).all()
        attempts = session.scalars(select(DeliveryAttempt.outcome).join(OutboxMessage).join(Subscription)
                                   .where(Subscription.name == "batched")).all()
    assert [event["id"] for event in batched] == [message_id for message_id, _ in rows]
    assert {status for _, status in rows} == {"delivered"} and attempts == ["delivered"] * len(rows)
    assert len({request.headers["webhook-id"] for request in posts}) == len(posts)


def queue_events(rt, count: int) -> list[str]:
    run_cycle(rt, open_source(rt, "demo"), deliver=False)  # (syncs the subscription)
    with rt.sessions.begin() as session:  # the demo's own events are out of the way
        session.execute(OutboxMessage.__table__.delete())
    with rt.sessions.begin() as session:
        outbox = Outbox(session, None, utcnow(), 0)
        for n in range(count):
            outbox.add("alert.issued", "220102", {"n": n})
    with rt.sessions() as session:
        return list(session.scalars(select(OutboxMessage.message_id).order_by(OutboxMessage.id)))


def posted(httpserver) -> list[tuple[str, list[str]]]:
    """Each POST's webhook-id and the ids of the events it carried."""
    return [(request.headers["webhook-id"], [event["id"] for event in json.loads(request.data)["data"]["events"]])
            for request, _ in httpserver.log]


def test_a_failed_batch_is_retried_whole_in_order_under_the_same_webhook_id(make_runtime, config_dir, httpserver):
    answers = iter([Response("overloaded", status=503)])
    httpserver.expect_request("/hook").respond_with_handler(lambda request: next(answers, Response("ok")))
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued"], batch=4)
    rt = make_runtime()
    ids = queue_events(rt, 10)
    assert drain(rt.sessions, rt.http, rt.settings.delivery) == {"delivered": 6, "failed": 4, "parked": 0}
    assert drain(rt.sessions, rt.http, rt.settings.delivery, now=utcnow() + timedelta(seconds=10))["delivered"] == 4
    first, second, third, retried = posted(httpserver)
    assert [first[1], second[1], third[1]] == [ids[:4], ids[4:8], ids[8:]]
    assert retried == first  # the same events in the same order under the same webhook-id: one duplicate to drop
    with rt.sessions() as session:
        attempts = session.execute(select(OutboxMessage.message_id, DeliveryAttempt.outcome).join(OutboxMessage)
                                   .order_by(DeliveryAttempt.attempted_at, OutboxMessage.id)).all()
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert [outcome for message_id, outcome in attempts if message_id in ids[:4]] == ["retry"] * 4 + ["delivered"] * 4
    assert statuses == {"delivered"}


def test_a_batch_answered_410_disables_the_subscriber_and_parks_all_it_had(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    write_subscription(config_dir, httpserver.url_for("/hook"), events=["alert.issued"], batch=4)
    rt = make_runtime()
    queue_events(rt, 10)
    assert drain(rt.sessions, rt.http, rt.settings.delivery) == {"delivered": 0, "failed": 0, "parked": 10}
    assert len(httpserver.log) == 1  # the rest were not sent to an endpoint that is gone
    with rt.sessions() as session:
        subscription = session.scalars(select(Subscription)).one()
    assert not subscription.enabled and "endpoint gone" in subscription.disabled_reason


@pytest.mark.parametrize("fields, problem", [
    ({"batch": 0}, "batch: Input should be greater than or equal to 1"),
    ({"batch": 1001}, "batch: Input should be less than or equal to 1000"),
    ({"batch": 10, "format": "cap"}, "batch: only JSON and Alertmanager webhooks take events in batches"),
    ({"batch": 10, "channel": "wecom", "secrets": []}, "batch: only JSON and Alertmanager webhooks take events in batches"),
])
def test_a_batch_setting_a_subscriber_cannot_use_is_refused_naming_the_file_and_field(
        make_runtime, config_dir, fields, problem):
    from triggers.validation import InvalidConfig
    subscribe(config_dir, {"name": "platform", "url": "https://platform.example/hook"} | fields)
    with pytest.raises(InvalidConfig) as caught:
        make_runtime()
    assert any("subscriptions.yaml" in p and problem in p for p in caught.value.problems), caught.value.problems
