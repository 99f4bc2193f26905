"""Subscriptions in the console: added with a secret generated and shown once, tested with a signed
ping a real receiver verifies, the secret rotated with the old one still valid for a grace period,
parked messages replayed; province admins for their own area only."""

from __future__ import annotations

import re

from sqlalchemy import update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import log_in
from warning.models import OutboxMessage, Subscription, utcnow
from warning.web import create_app


def browser(api, name: str):
    client = create_app(api.rt).test_client()
    assert log_in(client, name).status_code == 302
    return client


def csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/subscriptions").get_data(as_text=True)).group(1)


def shown_secret(page: str) -> str:
    return re.search(r'<div class="flash ok" role="status" id="secret">.*?<code>(whsec_[^<]+)</code>', page, re.S).group(1)


def add(client, **fields):
    return client.post("/subscriptions", data={"csrf_token": csrf(client), "format": "json", **fields})


def pings(httpserver) -> list:
    return [request for request, _ in httpserver.log if request.get_json().get("type") == "ping"]


def test_a_webhook_added_in_the_console_gets_a_secret_shown_once_that_its_receiver_verifies(api, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    admin = browser(api, "root")
    added = add(admin, name="relief-platform", url=httpserver.url_for("/hook"), regions="220000", batch="")
    page = added.get_data(as_text=True)
    secret = shown_secret(page)
    assert added.status_code == 200 and 'data-name="relief-platform" data-health="delivering"' in page
    assert secret not in admin.get("/subscriptions").get_data(as_text=True)  # shown once, never again

    tested = admin.post("/subscriptions/relief-platform/test", data={"csrf_token": csrf(admin)}, follow_redirects=True)
    assert "测试消息已送达(HTTP 200" in tested.get_data(as_text=True)
    request = pings(httpserver)[-1]
    body = Webhook(secret).verify(request.get_data(), dict(request.headers))
    assert body["type"] == "ping" and body["data"]["subscription"] == "relief-platform"


def test_a_rotated_secret_signs_beside_the_old_one_until_the_grace_ends(api, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    admin = browser(api, "root")
    old = shown_secret(add(admin, name="oncall", url=httpserver.url_for("/hook")).get_data(as_text=True))
    rotated = admin.post("/subscriptions/oncall/rotate", data={"csrf_token": csrf(admin), "grace_hours": "72"})
    new = shown_secret(rotated.get_data(as_text=True))
    assert new != old and "旧密钥有效至" in rotated.get_data(as_text=True)

    admin.post("/subscriptions/oncall/test", data={"csrf_token": csrf(admin)})
    during = pings(httpserver)[-1]
    for secret in (old, new):  # a receiver on either secret accepts it during the grace period
        Webhook(secret).verify(during.get_data(), dict(during.headers))

    with api.rt.sessions.begin() as session:  # the grace period ends
        row = session.query(Subscription).filter_by(name="oncall").one()
        row.options = {**row.options, "previous_secret_until": "2020-01-01T00:00:00Z"}
    admin.post("/subscriptions/oncall/test", data={"csrf_token": csrf(admin)})
    after = pings(httpserver)[-1]
    Webhook(new).verify(after.get_data(), dict(after.headers))
    try:
        Webhook(old).verify(after.get_data(), dict(after.headers))
        raise AssertionError("the old secret still verifies after its grace period")
    except WebhookVerificationError:
        pass


def test_parked_messages_are_replayed_from_the_page(api, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    admin = browser(api, "root")
    add(admin, name="county-hook", url=httpserver.url_for("/hook"), regions="220102")
    from warning.events import Outbox
    with api.rt.sessions.begin() as session:
        Outbox(session, None, utcnow(), 0).add("alert.issued", "220102", {"alert_id": 1})
    with api.rt.sessions.begin() as session:
        session.execute(update(OutboxMessage).values(status="parked"))
    page = admin.get("/subscriptions").get_data(as_text=True)
    assert re.search(r'data-name="county-hook".*?<td>1</td>', page, re.S)  # one parked
    replayed = admin.post("/subscriptions/county-hook/replay", data={"csrf_token": csrf(admin)}, follow_redirects=True)
    assert "1 条搁置消息已重新排队" in replayed.get_data(as_text=True)
    with api.rt.sessions() as session:
        assert {m.status for m in session.query(OutboxMessage)} == {"pending"}


def test_province_admins_manage_their_area_only_and_county_users_have_no_page(api, httpserver):
    jilin = browser(api, "jilin")
    refused = add(jilin, name="beijing-feed", url="https://a.example/h", regions="110000")
    assert refused.status_code == 422 and "只能订阅本辖区的区划代码" in refused.get_data(as_text=True)
    assert add(jilin, name="jilin-feed", url="https://a.example/h", regions="220100").status_code == 200
    assert 'data-name="jilin-feed"' not in browser(api, "beijing").get("/subscriptions").get_data(as_text=True)
    assert browser(api, "nanguan").get("/subscriptions").status_code == 403
    bad = add(browser(api, "root"), name="x", url="ftp://nowhere", regions="")
    assert bad.status_code == 422 and "url" in bad.get_data(as_text=True)
