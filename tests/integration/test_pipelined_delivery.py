"""Signed webhooks written ahead on one kept-alive connection (HTTP/1.1 pipelining, RFC 9112 §9.3.2)
and answered in order; receivers that close, drop pipelined requests or answer in pieces.

The receivers here are built for these tests (tests/emulators.PipelineReceiver, RawServer); the TLS
one is the keep-alive receiver behind a trustme certificate authority."""

from __future__ import annotations

import json
import ssl
import threading
import time

import pytest
import trustme
from datetime import timedelta

from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook

from notifiers.base import DELIVERED, PERMANENT, RETRY
from notifiers.http import HttpSession
from notifiers.pipeline import Pipeline, Request
from tests.conftest import TEST_SECRET, write_subscription
from tests.emulators import PipelineReceiver, webhook_receiver
from warning.cycle import run_cycle
from warning.delivery import drain
from warning.models import OutboxMessage, Subscription, utcnow
from warning.sources import open_source

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def exchange(url: str, count: int, depth: int = 16, timeout_s: float = 5, allow_private: bool = True):
    """Send `count` requests (item n carries {"n": n}); each item with its outcome, as they came back."""
    session = HttpSession()
    pipeline = Pipeline(url, session.route_for(url), timeout_s, allow_private, depth)
    waiting = iter([Request(n, json.dumps({"n": n}).encode(), {"content-type": "application/json"})
                    for n in range(count)])
    return [(request.item, outcome) for request, outcome in pipeline.exchange(lambda _idle: next(waiting, None))]


@pytest.fixture
def receivers():
    made = []

    def make(**kwargs) -> PipelineReceiver:
        made.append(PipelineReceiver(**kwargs))
        return made[-1]
    yield make
    for receiver in made:
        receiver.close()


def test_requests_are_written_ahead_on_one_connection_and_answered_in_order(receivers):
    receiver = receivers(latency_s=0.05)  # a long link: one at a time would wait 50 ms for each
    outcomes = exchange(receiver.url, 40, depth=16)
    assert [item for item, _ in outcomes] == list(range(40))
    assert {outcome.status for _, outcome in outcomes} == {DELIVERED}
    assert [body["n"] for body in receiver.bodies()] == list(range(40)) and receiver.connections == 1
    # the first alone (is the connection kept open?), then several on their way at once, never more than 16
    assert 1 < receiver.most_waiting <= 16


def test_a_receiver_closing_after_each_answer_gets_one_request_per_connection_and_each_once(receivers):
    receiver = receivers(answer=lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                         latency_s=0.05)
    outcomes = exchange(receiver.url, 6)
    assert [(item, outcome.status) for item, outcome in outcomes] == [(n, DELIVERED) for n in range(6)]
    assert [body["n"] for body in receiver.bodies()] == list(range(6))  # none twice
    assert receiver.connections == 6 and receiver.most_waiting == 1


def test_a_receiver_dropping_pipelined_requests_costs_one_deadline_then_gets_one_at_a_time(receivers):
    receiver = receivers(latency_s=0.1, pipelining=False)  # answers the first of what it read, drops the rest
    outcomes = exchange(receiver.url, 10, timeout_s=1)
    assert [item for item, _ in outcomes] == list(range(10))  # each once, in order
    failed = [(item, outcome) for item, outcome in outcomes if outcome.status != DELIVERED]
    assert len(failed) == 1 and failed[0][1].status == RETRY and "1 s deadline" in failed[0][1].error
    delivered = [item for item, outcome in outcomes if outcome.status == DELIVERED]
    assert sorted(body["n"] for body in receiver.bodies()) == delivered  # the dropped one is retried later
    assert receiver.connections == 2


def test_interim_chunked_empty_and_refusing_answers_each_end_where_they_should(receivers):
    answers = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;note=x\r\nok\r\n3\r\n!!!\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 4\r\n\r\nbusy",
        b"HTTP/1.1 410 Gone\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ngone\r\n0\r\n\r\n",
    ]
    receiver = receivers(answer=lambda n: answers[n % len(answers)])
    outcomes = exchange(receiver.url, 10)
    assert [item for item, _ in outcomes] == list(range(10)) and receiver.connections == 1
    assert [outcome.status for _, outcome in outcomes] == ["delivered", "delivered", "delivered", "retry", "gone"] * 2
    refused = outcomes[3][1]
    assert refused.http_status == 503 and refused.error == "HTTP 503: busy" and refused.retry_after_s == 30
    assert outcomes[4][1].error == "HTTP 410: gone"


def test_an_answer_too_long_to_read_through_closes_its_connection_and_the_rest_go_on_another(receivers):
    long = b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000
    receiver = receivers(answer=lambda n: long if n == 3 else OK)
    outcomes = exchange(receiver.url, 12)
    assert [(item, outcome.status) for item, outcome in outcomes] == [(n, DELIVERED) for n in range(12)]
    assert receiver.connections >= 2
    # the bytes after the answer read are never taken for the next answer; what was in flight may come twice
    assert {body["n"] for body in receiver.bodies()} == set(range(12))


def test_a_deadline_cuts_a_receiver_that_stops_answering(receivers):
    stalled = threading.Event()
    receiver = receivers(answer=lambda n: OK if n < 2 or stalled.wait(3) else OK)
    outcomes = exchange(receiver.url, 4, timeout_s=0.5)
    stalled.set()
    assert [outcome.status for _, outcome in outcomes][:2] == [DELIVERED, DELIVERED]
    assert outcomes[2][1].status == RETRY and "0.5 s deadline" in outcomes[2][1].error
    assert outcomes[2][1].latency_ms < 3000


def test_private_addresses_are_refused_when_not_allowed_and_nothing_is_sent(receivers):
    receiver = receivers()
    [(_, outcome)] = exchange(receiver.url, 1, allow_private=False)
    assert outcome.status == PERMANENT and "non-public address 127.0.0.1" in outcome.error
    assert receiver.requests == [] and receiver.connections == 0


def test_tls_receivers_are_verified_against_the_configured_ca_bundle(monkeypatch, tmp_path):
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    got = []
    server = webhook_receiver(lambda port, headers, body: got.append(port))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda request, address: None  # (the refused handshake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/hook"
    try:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
        [(_, refused)] = exchange(url, 1)
        assert refused.status == RETRY and "CERTIFICATE_VERIFY_FAILED" in refused.error and got == []
        bundle = tmp_path / "ca.pem"
        authority.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        assert [outcome.status for _, outcome in exchange(url, 3)] == [DELIVERED] * 3
        assert len(got) == 3 and len(set(got)) == 1  # one connection
    finally:
        server.shutdown()
        server.server_close()


def test_an_in_order_subscriber_gets_its_signed_events_pipelined_in_order(make_runtime, config_dir, receivers):
    receiver = receivers(latency_s=0.02)
    write_subscription(config_dir, receiver.url, events=["alert.issued", "tasklist.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    # batches of 7: each next one read while one sends, and sent under the same lease, in order
    counts = drain(rt.sessions, rt.http, rt.settings.delivery.model_copy(update={"batch_size": 7}))
    with rt.sessions() as session:
        queued = session.scalars(select(OutboxMessage.message_id).order_by(OutboxMessage.id)).all()
    assert counts["delivered"] == len(queued) > 20 and counts["failed"] == 0
    # every event verified with the reference Standard Webhooks library, in the order queued, once
    verified = [Webhook(TEST_SECRET).verify(body, headers) for _, headers, body in receiver.requests]
    assert [headers["webhook-id"] for _, headers, _ in receiver.requests] == queued and len(verified) == len(queued)
    assert receiver.connections == 1 and receiver.most_waiting > 1  # per_endpoint = 1: one connection, ahead


def test_the_next_batch_is_on_its_way_before_the_last_of_the_one_before_is_answered(make_runtime, config_dir,
                                                                                       receivers):
    # A slow receiver (50 ms an answer): the batch read ahead goes to the lane sending the one before,
    # so the receiver finds the next request waiting whenever it answers one, batch after batch, and
    # never waits for coldwarn to record a batch and take up the next.
    receiver = receivers(answer=lambda n: time.sleep(0.05) or OK)
    write_subscription(config_dir, receiver.url, events=["alert.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    counts = drain(rt.sessions, rt.http, rt.settings.delivery.model_copy(update={"batch_size": 8}))
    with rt.sessions() as session:
        queued = session.scalars(select(OutboxMessage.message_id).order_by(OutboxMessage.id)).all()
    assert counts["delivered"] == len(queued) > 16 and receiver.connections == 1
    assert [headers["webhook-id"] for _, headers, _ in receiver.requests] == queued  # in order
    assert all(receiver.next_there[1:-1]), list(enumerate(receiver.next_there))  # (the first goes alone: see notifiers.pipeline)


def test_a_subscriber_behind_a_proxy_is_sent_one_by_one_through_it(make_runtime, config_dir, httpserver, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{httpserver.port}")  # the test server is the proxy
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, "http://coldwarn-receiver.invalid/hook", events=["alert.issued"],
                       regions=["220802"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    counts = drain(rt.sessions, rt.http, rt.settings.delivery)
    assert counts["delivered"] == len(httpserver.log) > 0  # (the host resolves nowhere: only the proxy reaches it)
    assert {request.headers["Host"] for request, _ in httpserver.log} == {"coldwarn-receiver.invalid"}


def test_the_next_batch_is_not_sent_when_another_worker_has_taken_the_subscriber(make_runtime, config_dir, receivers):
    def answer(n):
        if n == 0:  # as if this worker's lease had run out and another worker had claimed the subscriber
            with rt.sessions.begin() as session:
                session.execute(update(Subscription).values(leased_until=utcnow() + timedelta(hours=1)))
        return OK
    receiver = receivers(answer=answer)
    write_subscription(config_dir, receiver.url, events=["alert.issued", "tasklist.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    counts = drain(rt.sessions, rt.http, rt.settings.delivery.model_copy(update={"batch_size": 5}))
    assert counts["delivered"] == 5 == len(receiver.requests)  # the batch it held, not the one read ahead
    with rt.sessions() as session:
        pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending"))
        subscription = session.scalars(select(Subscription)).one()
    assert pending > 0 and subscription.leased_until > utcnow()  # left to the other worker's lease


def test_a_subscriber_disabled_while_its_lane_streams_gets_nothing_more(make_runtime, config_dir, receivers):
    def answer(n):
        if n == 0:  # an admin disables the subscription while its first batch is on its way
            with rt.sessions.begin() as session:
                session.execute(update(Subscription).values(enabled=False, disabled_reason="by an admin"))
        return OK
    receiver = receivers(answer=answer)
    write_subscription(config_dir, receiver.url, events=["alert.issued", "tasklist.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    counts = drain(rt.sessions, rt.http, rt.settings.delivery.model_copy(update={"batch_size": 4}))
    with rt.sessions() as session:
        parked = session.scalars(select(OutboxMessage.last_error).where(OutboxMessage.status == "parked")).all()
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
    # the batches read after the change are parked, not sent (at most the one read ahead before it goes)
    assert counts["delivered"] == len(receiver.requests) <= 8 < queued
    assert counts["parked"] == len(parked) == queued - counts["delivered"]
    assert all("subscription disabled: by an admin" in error for error in parked)


def test_many_lanes_to_one_subscriber_deliver_everything_once(make_runtime, config_dir, receivers):
    # More lanes than some batches have messages left by the time the last lane starts: none may fail.
    receiver = receivers()
    write_subscription(config_dir, receiver.url, events=["alert.issued", "tasklist.issued"])
    rt = make_runtime()
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    settings = rt.settings.delivery.model_copy(update={"batch_size": 20, "workers": 16, "per_endpoint": 16})
    counts = drain(rt.sessions, rt.http, settings)
    with rt.sessions() as session:
        queued = session.scalars(select(OutboxMessage.message_id)).all()
    assert counts["delivered"] == len(queued) and counts["failed"] == 0
    assert sorted(headers["webhook-id"] for _, headers, _ in receiver.requests) == sorted(queued)
