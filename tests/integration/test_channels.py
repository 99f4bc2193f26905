"""Channels people read: WeCom and DingTalk robots, e-mail over SMTP, an SMS gateway.

Each runs the demo cycle through the outbox to a real receiver on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from werkzeug.wrappers import Response

from triggers.validation import InvalidConfig
from warning.config import SubscriptionConfig
from warning.cycle import run_cycle
from warning.delivery import drain
from warning.models import DeliveryAttempt, OutboxMessage, Subscription
from warning.sources import open_source
from warning.subscriptions import validated
from tests.conftest import write_subscription

COUNTY = "220802"  # 吉林省白城市洮北区 in the demo
ROBOT_KEY = "0f3c2b1a-robot-key-7d6e"
DINGTALK_SECRET = "SECb1c0ffee0123456789abcdef"
EVENTS = ["alert.issued", "tasklist.issued"]


def bodies(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def statuses(rt) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(OutboxMessage.status)))


def test_wecom_robot_gets_markdown_task_lists_in_chinese(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    write_subscription(config_dir, httpserver.url_for(f"/cgi-bin/webhook/send?key={ROBOT_KEY}"),
                       channel="wecom", secrets=[], regions=[COUNTY], events=EVENTS)
    rt = make_runtime()
    summary = run_cycle(rt, open_source(rt, "demo"))
    sent = bodies(httpserver)
    assert summary["deliveries"]["delivered"] == len(sent) >= 2
    assert {body["msgtype"] for body in sent} == {"markdown"}
    contents = [body["markdown"]["content"] for body in sent]
    assert all(len(c.encode()) <= 4096 for c in contents)
    task_list = next(c for c in contents if "防寒救助任务单" in c)
    assert task_list.startswith("### 洮北区防寒救助任务单") and "吉林省白城市洮北区" in task_list
    assert "时限" in task_list and "T" not in task_list.split("时限", 1)[1][:20]  # local time, not ISO
    assert any("预警发布" in c for c in contents)


def test_wecom_rate_limit_is_retried_and_a_dead_robot_disables_the_subscription(make_runtime, config_dir, httpserver):
    httpserver.expect_ordered_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 45009, "errmsg": "api freq out of limit"})
    write_subscription(config_dir, httpserver.url_for(f"/cgi-bin/webhook/send?key={ROBOT_KEY}"),
                       channel="wecom", secrets=[], regions=[COUNTY], events=["tasklist.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    counts = drain(rt.sessions, rt.http, rt.config.settings.delivery.model_copy(update={"batch_size": 1, "workers": 1}))
    assert counts["failed"] >= 1 and counts["delivered"] == 0
    with rt.sessions() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.attempts == 1)).first()
        assert waiting.status == "pending" and "45009" in waiting.last_error
        assert (waiting.next_attempt_at - waiting.created_at).total_seconds() >= 59  # a robot allows 20 a minute

    httpserver.clear()
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 93000, "errmsg": "invalid webhook url"})
    with rt.sessions.begin() as session:
        for row in session.scalars(select(OutboxMessage)):
            row.next_attempt_at = row.created_at
    drain(rt.sessions, rt.http, rt.config.settings.delivery)
    with rt.sessions() as session:
        subscription = session.scalars(select(Subscription)).one()
        assert not subscription.enabled and "93000" in subscription.disabled_reason
        errors = " ".join(a.error or "" for a in session.scalars(select(DeliveryAttempt)))
    assert "93000" in errors and ROBOT_KEY not in errors
    assert set(statuses(rt)) == {"parked"}


def test_dingtalk_robot_signs_every_request(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    write_subscription(config_dir, httpserver.url_for("/robot/send?access_token=abcdef123456"),
                       channel="dingtalk", secrets=[DINGTALK_SECRET], regions=[COUNTY], events=EVENTS, lang="en")
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    assert len(httpserver.log) >= 2
    for request, _ in httpserver.log:
        query = parse_qs(urlsplit(request.url).query)
        assert query["access_token"] == ["abcdef123456"]
        timestamp = query["timestamp"][0]
        expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        assert query["sign"] == [expected]
        body = json.loads(request.get_data())
        assert body["msgtype"] == "markdown" and body["markdown"]["title"]
        assert body["markdown"]["text"].startswith(f"### {body['markdown']['title']}")
    titles = [json.loads(r.get_data())["markdown"]["title"] for r, _ in httpserver.log]
    assert any("Relief task list" in t for t in titles)  # the subscription asked for English


def test_dingtalk_refusing_the_signature_parks_the_message(make_runtime, config_dir, httpserver):
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 310000, "errmsg": "sign not match"})
    write_subscription(config_dir, httpserver.url_for("/robot/send?access_token=abcdef123456"),
                       channel="dingtalk", secrets=[DINGTALK_SECRET], regions=[COUNTY], events=["tasklist.issued"])
    rt = make_runtime()
    summary = run_cycle(rt, open_source(rt, "demo"))
    assert summary["deliveries"]["parked"] >= 1 and summary["deliveries"]["delivered"] == 0
    assert set(statuses(rt)) == {"parked"}


class Mailbox:
    """Handler for aiosmtpd: keeps what arrives; answers with a scripted SMTP code first if told."""

    def __init__(self):
        self.messages, self.refuse_with = [], []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with.pop(0)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(config_dir):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = config_dir / "settings.toml"
    settings.write_text(settings.read_text().replace("port = 25", f"port = {port}")
                        .replace('security = "starttls"', 'security = "none"'), encoding="utf-8")
    yield mailbox
    controller.stop()


def test_email_carries_text_and_html_with_one_message_id_per_event(make_runtime, config_dir, smtp_server):
    write_subscription(config_dir, "mailto:mzj@taobei.example.cn,duty@taobei.example.cn", channel="email",
                       secrets=[], regions=[COUNTY], events=EVENTS)
    smtp_server.refuse_with = ["451 4.3.0 mailbox busy, try later"]
    rt = make_runtime(COLDWARN_SMTP_HOST="127.0.0.1")
    summary = run_cycle(rt, open_source(rt, "demo"))
    assert summary["deliveries"]["failed"] == 1  # the first one is refused for now, and waits
    with rt.sessions.begin() as session:
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")):
            row.next_attempt_at = row.created_at
    drain(rt.sessions, rt.http, rt.config.settings.delivery)
    assert set(statuses(rt)) == {"delivered"}
    assert len(smtp_server.messages) == len(statuses(rt))
    recipients, mail = next((r, m) for r, m in smtp_server.messages if "任务单" in m["Subject"])
    assert recipients == ["mzj@taobei.example.cn", "duty@taobei.example.cn"]
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "吉林省白城市洮北区" in text and "<h2>洮北区防寒救助任务单</h2>" in html
    with rt.sessions() as session:
        ids = set(session.scalars(select(OutboxMessage.message_id)))
    assert {m["Message-ID"] for _, m in smtp_server.messages} == {f"<{i}@coldwarn>" for i in ids}


def test_email_refused_for_good_is_parked_with_the_reason(make_runtime, config_dir, smtp_server):
    write_subscription(config_dir, "mailto:nobody@taobei.example.cn", channel="email", secrets=[],
                       regions=[COUNTY], events=["tasklist.issued"])
    smtp_server.refuse_with = ["550 5.1.1 no such mailbox"] * 10
    rt = make_runtime(COLDWARN_SMTP_HOST="127.0.0.1")
    run_cycle(rt, open_source(rt, "demo"))
    with rt.sessions() as session:
        row = session.scalars(select(OutboxMessage)).first()
        assert row.status == "parked" and "550" in row.last_error


def test_email_without_a_mail_server_is_parked_saying_so(make_runtime, config_dir):
    write_subscription(config_dir, "mailto:mzj@taobei.example.cn", channel="email", secrets=[],
                       regions=[COUNTY], events=["tasklist.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    with rt.sessions() as session:
        row = session.scalars(select(OutboxMessage)).first()
    assert row.status == "parked" and "delivery.smtp.host" in row.last_error


def test_sms_gateway_gets_the_templated_body(make_runtime, config_dir, httpserver):
    seen = []

    def gateway(request):
        seen.append((json.loads(request.get_data()), request.headers.get("X-Api-Key")))
        return Response('{"code": "OK"}', content_type="application/json")

    httpserver.expect_request("/sms/send").respond_with_handler(gateway)
    write_subscription(config_dir, httpserver.url_for("/sms/send"), channel="sms", secrets=["gateway-key-123"],
                       regions=[COUNTY], events=["alert.issued"], to=["13800000001", "+8613900000002"],
                       body={"phones": "{to_list}", "content": "【民政防寒】{text}", "outId": "{id}"},
                       headers={"X-Api-Key": "{secret}"})
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"))
    assert seen
    with rt.sessions() as session:
        ids = set(session.scalars(select(OutboxMessage.message_id)))
    for body, key in seen:
        assert body["phones"] == ["13800000001", "+8613900000002"] and key == "gateway-key-123"
        assert body["content"].startswith("【民政防寒】洮北区") and len(body["content"]) <= 6 + 140
        assert body["outId"] in ids


@pytest.mark.parametrize("entry, complaint", [
    ({"channel": "webhook", "url": "https://x.example/h", "secrets": []}, "needs at least one whsec_"),
    ({"channel": "dingtalk", "url": "https://x.example/robot/send?access_token=a", "secrets": []}, "SEC"),
    ({"channel": "wecom", "url": "https://x.example/send?key=a", "secrets": ["whsec_x"]}, "takes none"),
    ({"channel": "email", "url": "https://x.example/", "secrets": []}, "mailto:"),
    ({"channel": "email", "url": "mailto:not-an-address", "secrets": []}, "not valid addresses"),
    ({"channel": "sms", "url": "https://x.example/sms", "to": ["call me"]}, "phone numbers"),
    ({"channel": "sms", "url": "https://x.example/sms", "to": ["13800000001"], "body": {"m": "{message}"}},
     "unknown placeholder(s) ['message']"),
    ({"channel": "wecom", "url": "https://x.example/send?key=a", "format": "cap"}, "cap is for webhook"),
    ({"channel": "fax", "url": "https://x.example/"}, "channel"),
])
def test_each_channel_says_what_it_is_missing(entry, complaint):
    with pytest.raises(InvalidConfig) as raised:
        validated({"name": "n", **entry})
    assert complaint in " ".join(raised.value.problems)


def test_a_valid_robot_subscription_keeps_its_options():
    config = SubscriptionConfig.model_validate({"name": "n", "channel": "sms", "url": "https://x.example/sms",
                                                "to": ["13800000001"], "headers": {"X-Key": "{secret}"}})
    assert config.options == {"to": ["13800000001"], "headers": {"X-Key": "{secret}"}}
