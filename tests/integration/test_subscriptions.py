"""Subscribers added by hand, removed, and parked messages replayed: nothing is lost on the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from triggers.validation import InvalidConfig
from warning.cycle import run_cycle
from warning.delivery import drain
from warning.models import OutboxMessage, utcnow
from warning.sources import open_source
from warning.subscriptions import add_subscription, remove_subscription, replay_parked
from tests.conftest import TEST_SECRET


def subscribe(rt, url, name="platform", **fields):
    with rt.sessions.begin() as session:
        add_subscription(session, {"name": name, "url": url, "secrets": [TEST_SECRET], "events": ["alert.issued"],
                                   **fields}, "cli", rt.settings.delivery.allow_private_targets, "admin-li")


def parked(rt):
    with rt.sessions() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.status == "parked")).all()


def test_a_receiver_that_was_down_gets_everything_on_replay_with_the_same_ids(make_runtime, config_dir, httpserver):
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace(
        "retry_schedule_s = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]", "retry_schedule_s = [0]"))
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    rt = make_runtime()
    subscribe(rt, httpserver.url_for("/hook"), regions=["220802"])
    run_cycle(rt, open_source(rt, "demo"))
    waiting = parked(rt)  # the county's cold-wave, GB/T-grade and night-shelter alerts
    assert len(waiting) == 3 and all(m.attempts == 1 and "HTTP 503" in m.last_error for m in waiting)

    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    with rt.sessions.begin() as session:
        assert replay_parked(session, "admin-li", message_id=waiting[0].message_id) == 1
        assert replay_parked(session, "admin-li", subscription="platform", since=utcnow() + timedelta(hours=1)) == 0
        assert replay_parked(session, "admin-li", subscription="platform", since=utcnow() - timedelta(hours=1)) == 2
    assert drain(rt.sessions, rt.http, rt.settings.delivery)["delivered"] == 3
    assert {r.headers["webhook-id"] for r, _ in httpserver.log} == {m.message_id for m in waiting}
    assert parked(rt) == []


def test_removing_a_subscriber_parks_what_it_still_had_to_send(make_runtime, httpserver):
    rt = make_runtime()
    subscribe(rt, httpserver.url_for("/hook"))
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions.begin() as session:
        count = remove_subscription(session, "platform", "admin-li")
    assert count > 0 and len(parked(rt)) == count
    assert drain(rt.sessions, rt.http, rt.settings.delivery) == {"delivered": 0, "failed": 0, "parked": 0}
    with pytest.raises(InvalidConfig, match="platform is disabled"):
        with rt.sessions.begin() as session:
            replay_parked(session, "admin-li", subscription="platform")


@pytest.mark.parametrize("fields, problem", [
    ({"url": "ftp://x"}, "url: String should match pattern"),
    ({"secrets": ["nope"]}, "webhook secrets start with 'whsec_'"),
    ({"events": ["alert.exploded"]}, "unknown event type"),
    ({"name": "platform"}, "name: platform exists already"),
])
def test_a_new_subscriber_is_validated(make_runtime, httpserver, fields, problem):
    rt = make_runtime()
    subscribe(rt, httpserver.url_for("/hook"))
    with pytest.raises(InvalidConfig) as caught:
        with rt.sessions.begin() as session:
            add_subscription(session, {"name": "other", "url": httpserver.url_for("/x"), "secrets": [TEST_SECRET]}
                             | fields, "cli", True, "admin-li")
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_private_targets_are_refused_unless_allowed(make_runtime):
    rt = make_runtime()
    with pytest.raises(InvalidConfig, match="non-public address 127.0.0.1"):
        with rt.sessions.begin() as session:
            add_subscription(session, {"name": "x", "url": "http://127.0.0.1:9/hook", "secrets": [TEST_SECRET]},
                             "cli", False, "admin-li")
