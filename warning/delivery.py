"""Draining the outbox: claim due messages under a lease, send, record every attempt.

A claim is a lease on subscribers (leased_until), not a lock held during the send: if a worker dies
mid-send, its subscribers' messages are taken again when the lease runs out and sent again with the
same webhook-id, so receivers can drop the duplicate. Nothing is ever deleted: a message is
delivered, waiting for its next attempt, or parked for replay.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
import uuid
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, not_, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import defer, sessionmaker

from notifiers.base import DELIVERED, GONE, PERMANENT, RETRY, Message, Notifier, Outcome, next_delay_s, truncate
from notifiers.cap import cap_body
from notifiers.http import HttpSession, Route
from notifiers.mail import EmailNotifier, SmtpServer, recipients_of
from notifiers.robots import DingTalkRobot, WeComRobot
from notifiers.sms import SmsGateway
from notifiers.pipeline import Connections, Pipeline, Request
from notifiers.targets import UnsafeTarget, check_form, redact, scrub
from notifiers.alertmanager import alertmanager_body
from notifiers.webhook import WebhookNotifier, batch_of
from warning.db import among, aware_utc_text, write_rows
from warning.events import SCHEMA_VERSION, Outbox
from warning.leader import CLAIM_LOCK, hold_until_commit
from warning.models import DeliveryAttempt, OutboxMessage, Subscription, utcnow
from warning.settings import DeliverySettings
from warning.subscriptions import signing_secrets
from warning.tallies import Tally

RECORD_EVERY_S = 1.0
FOLLOW_ON_FOR_S = 10.0  # a lease goes on to its subscribers' next messages this long, then others get a turn
RECORD_ROWS = 100  # sends recorded together at most: recording runs beside the sends, not after them
RECONNECT_FOR_S = 300.0  # how long a drain waits for the database to come back with sends to record
log = logging.getLogger(__name__)


# what a send needs of a claimed message (columns, not entities: a batch is thousands of them)
MESSAGE_COLUMNS = (OutboxMessage.id, OutboxMessage.message_id, OutboxMessage.event_type, OutboxMessage.event_time,
                   OutboxMessage.data, OutboxMessage.alert_id, OutboxMessage.subscription_id)


@dataclass
class Lease:
    """A drain's claim: the subscribers its messages are for, leased to it until `until` (counted
    from the clock, not from the drain's `due_by`: a long drain's later batches must not be leased
    already expired)."""
    subscribers: list[int]
    until: datetime
    stopped: threading.Event = field(default_factory=threading.Event)  # send nothing more under this lease
    claimed_at: float = field(default_factory=time.monotonic)


def claim(sessions: sessionmaker, due_by: datetime, settings: DeliverySettings) -> tuple[Lease, list[Claimed]]:
    """Lease to this worker the subscribers no worker holds, as many as its lanes can serve at once,
    with a batch of their messages due by `due_by`, oldest due first.

    A subscriber's messages go out from one worker at a time, so they keep their order however many
    workers share the outbox, and other workers take other subscribers. The lease is on the
    subscriber, not on each message: one row per subscriber written per batch, where a lease per
    message wrote every message twice and left the dead index entries every claim had to step over.
    """
    now = utcnow()
    lease = Lease([], now + timedelta(seconds=settings.lease_s))
    with sessions.begin() as session:
        hold_until_commit(session, CLAIM_LOCK)  # claims one at a time: each sees the leases made before it
        subscribers = free_subscribers(session, due_by, now, max(1, settings.workers // settings.per_endpoint))
        rows = session.execute(
            select(*MESSAGE_COLUMNS).where(is_due(due_by), OutboxMessage.subscription_id.in_(subscribers))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(settings.batch_size)).all() if subscribers else []
        lease.subscribers = sorted({row.subscription_id for row in rows})
        if rows:  # (those with messages in the batch only; an idle worker polls often: no empty update)
            session.execute(update(Subscription).where(Subscription.id.in_(lease.subscribers))
                            .values(leased_until=lease.until))
    if not rows:
        return lease, []
    with sessions() as session:  # (after the claim's commit: other workers need not wait for this)
        return lease, claimed_all(session, rows)


def is_due(due_by: datetime):
    return and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= due_by)


def free_subscribers(session, due_by: datetime, now: datetime, limit: int) -> list[int]:
    """Subscribers with messages due and no lease in force, the longest waiting first (by partial index)."""
    oldest_due = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.subscription_id == Subscription.id, is_due(due_by)).scalar_subquery()
    free = or_(Subscription.leased_until.is_(None), Subscription.leased_until < now)
    return list(session.scalars(select(Subscription.id).where(free, oldest_due.is_not(None))
                                .order_by(oldest_due, Subscription.id).limit(limit)))


def renew(sessions: sessionmaker, lease: Lease, settings: DeliverySettings) -> bool:
    """Extend this worker's lease on its subscribers (those whose lease it still holds); whether it
    still held them all."""
    renewed = utcnow() + timedelta(seconds=settings.lease_s)
    with sessions.begin() as session:
        held = session.execute(update(Subscription).where(Subscription.id.in_(lease.subscribers),
                                                          Subscription.leased_until == lease.until)
                               .values(leased_until=renewed)).rowcount
    lease.until = renewed
    return held == len(lease.subscribers)


def release(sessions: sessionmaker, lease: Lease) -> None:
    """Free this worker's subscribers once all it sent them is recorded."""
    with sessions.begin() as session:
        session.execute(update(Subscription).where(Subscription.id.in_(lease.subscribers),
                                                   Subscription.leased_until == lease.until)
                        .values(leased_until=None))


def notifier_for(subscription: Subscription, http: HttpSession, settings: DeliverySettings,
                 references: list[tuple[str, datetime]] | None = None) -> Notifier:
    """The channel that sends to this subscriber, configured from its row and the delivery settings."""
    common = {"timeout_s": settings.timeout_s, "lang": subscription.lang}
    web = common | {"allow_private": settings.allow_private_targets}
    channel, url = subscription.channel, subscription.url
    if channel == "wecom":
        return WeComRobot(url, http, **web)
    if channel == "dingtalk":
        return DingTalkRobot(url, subscription.secrets[0], http, **web)
    if channel == "email":
        return EmailNotifier(SmtpServer(**settings.smtp.model_dump()), recipients_of(url), **common)
    if channel == "sms":
        options = subscription.options
        return SmsGateway(url, options["to"], http, options.get("body"), options.get("headers"),
                          (subscription.secrets or [""])[0], **web)
    kwargs = {}
    if subscription.format == "alertmanager":
        kwargs = {"render": lambda message: alertmanager_body(message, subscription.name, subscription.lang,
                                                              settings.console_url)}
    if subscription.format == "cap":
        kwargs = {"render": lambda message: cap_body(message, settings.cap_sender, references or [], subscription.lang),
                  "content_type": "application/cap+xml; charset=utf-8"}
    return WebhookNotifier(url, signing_secrets(subscription, utcnow()), http, timeout_s=settings.timeout_s,
                           allow_private=settings.allow_private_targets, **kwargs)


def send_test(subscription: Subscription, http: HttpSession, settings: DeliverySettings) -> Outcome:
    """A ping to a JSON webhook, sent at once and not kept in the outbox: does the endpoint answer,
    and does it accept the signature? (docs/schemas/ping.v1.json)"""
    message = Message(id=f"msg_test_{uuid.uuid4().hex}", type="ping", timestamp=utcnow(),
                      data={"schema_version": SCHEMA_VERSION, "subscription": subscription.name,
                            "message": "coldwarn test message: no action needed"})
    return notifier_for(subscription, http, settings).notify(message)


def earlier_messages(session, row) -> list[tuple[str, datetime]]:
    """The CAP messages this subscriber got before for the same alert: what an Update or Cancel references."""
    earlier = session.execute(select(OutboxMessage.message_id, OutboxMessage.event_time).where(
        OutboxMessage.subscription_id == row.subscription_id, OutboxMessage.alert_id == row.alert_id,
        OutboxMessage.id < row.id, OutboxMessage.event_type.like("alert.%")).order_by(OutboxMessage.id))
    return [(message_id, sent) for message_id, sent in earlier]


@dataclass(frozen=True)
class Claimed:
    """A claimed message with what its send needs, read once per batch."""
    outbox_id: int
    message: Message
    subscription: Subscription  # detached: read-only here
    references: list[tuple[str, datetime]] | None  # earlier CAP messages for the same alert


@dataclass(frozen=True)
class Sent:
    claimed: Claimed
    outcome: Outcome
    at: datetime


def claimed_all(session, rows) -> list[Claimed]:
    """The claimed messages with what their sends need, each subscriber read once (and asked once
    whether it takes CAP: a batch is thousands of rows)."""
    subscribers = {subscription.id: subscription for subscription in session.scalars(
        select(Subscription).where(Subscription.id.in_({row.subscription_id for row in rows})))}
    cap = {subscription.id for subscription in subscribers.values() if subscription.format == "cap"}
    return [Claimed(row.id, Message(row.message_id, row.event_type, row.event_time, row.data),
                    subscribers[row.subscription_id],
                    earlier_messages(session, row) if row.subscription_id in cap else None) for row in rows]


@dataclass
class Marked:
    """What this drain has marked on its subscribers since it read them: those stopped (gone or
    disabled) are not sent to again; those marked failing are cleared by their next delivery, though
    it is recorded in a later transaction than the failure."""
    stopped: dict[int, str] = field(default_factory=dict)
    failing: set[int] = field(default_factory=set)


def send(batch: list[Claimed], http: HttpSession, settings: DeliverySettings, marked: Marked) -> list[Sent]:
    """Send a subscriber's next message, or its next batch as one (subscribers that take batches), and
    give each message the outcome; a subscriber stopped earlier in the drain is not sent to again."""
    subscription = batch[0].subscription
    if not subscription.enabled or subscription.id in marked.stopped:
        reason = marked.stopped.get(subscription.id) or subscription.disabled_reason
        outcome = Outcome(PERMANENT, error=f"subscription disabled: {reason}")
    else:
        try:
            outcome = notifier_for(subscription, http, settings, batch[0].references).notify(message_of(batch))
        except Exception as error:  # a bug or a damaged row: retried, then parked, never a stalled queue
            outcome = internal_error(batch, error)
    return sent_with(batch, outcome, marked)


def message_of(batch: list[Claimed]) -> Message:
    return batch_of([c.message for c in batch]) if batch_limit(batch[0].subscription) else batch[0].message


def internal_error(batch: list[Claimed], error: Exception) -> Outcome:
    subscription = batch[0].subscription
    log.exception("sending %s to subscription %s failed", batch[0].message.id, subscription.name)
    return Outcome(RETRY, error=truncate(scrub(f"internal error: {type(error).__name__}: {error}", subscription.url)))


def sent_with(batch: list[Claimed], outcome: Outcome, marked: Marked) -> list[Sent]:
    """Each message of a POST with the POST's outcome; an endpoint gone is sent nothing more."""
    if outcome.status == GONE:
        marked.stopped[batch[0].subscription.id] = f"endpoint gone: {outcome.error}"
    at = utcnow()
    return [Sent(claimed, outcome, at) for claimed in batch]


def batch_limit(subscription: Subscription) -> int | None:
    """How many messages one POST to this subscriber carries, as a `batch` body; None: one, as itself."""
    return subscription.options.get("batch")


def record(sessions: sessionmaker, sent: list[Sent], settings: DeliverySettings, marked: Marked) -> Counter:
    """Record a run of sends in one transaction, in the order they were sent; counts delivered, failed
    and parked."""
    counts: Counter = Counter()
    with sessions.begin() as session:
        delivered = [s for s in sent if s.outcome.status == DELIVERED]
        failures = [s for s in sent if s.outcome.status != DELIVERED]
        failed = {row.id: row for row in session.scalars(  # (the bodies were read with the batch: not again)
            select(OutboxMessage).options(defer(OutboxMessage.data))
            .where(OutboxMessage.id.in_([s.claimed.outbox_id for s in failures])))} if failures else {}
        subscribers = LockedSubscribers(session)
        for s in sent:
            if s.outcome.status == DELIVERED:
                clear_failing(s, subscribers, marked)
            else:
                counts[record_failure(session, failed[s.claimed.outbox_id], s, subscribers, settings, marked)] += 1
        if delivered:
            record_deliveries(session, delivered)
            counts["delivered"] += len(delivered)
        write_rows(session, DeliveryAttempt.__table__, [attempt_row(s) for s in failures])
        tally = Tally()
        for status, n in Counter(s.outcome.status for s in sent).items():
            tally.count("coldwarn_delivery_attempts", {"outcome": status}, n)
        tally.observe_all("coldwarn_delivery_latency_seconds", {}, [s.outcome.latency_ms / 1000 for s in sent])
        tally.write(session)
    return counts


OUTBOX = OutboxMessage.__table__  # (Core: an ORM update() given a list of rows would want them by primary key)
MARK_DELIVERED = (update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id"))
                  .values(status="delivered", delivered_at=bindparam("at"), attempts=OUTBOX.c.attempts + 1,
                          last_error=None))
# PostgreSQL: a run's deliveries in one statement from arrays, each message marked and its attempt
# written (an executemany is a statement per row; COPY formats every value of every attempt in Python)
RECORD_DELIVERED_FROM_ARRAYS = text(
    "WITH sent(id, at, http_status, latency_ms) AS (SELECT * FROM unnest(CAST(:ids AS bigint[]), "
    "CAST(:ats AS timestamptz[]), CAST(:statuses AS integer[]), CAST(:latencies AS float8[]))), "
    "marked AS (UPDATE outbox SET status = 'delivered', delivered_at = sent.at, attempts = outbox.attempts + 1, "
    "last_error = NULL FROM sent WHERE outbox.id = sent.id) "
    "INSERT INTO delivery_attempts (outbox_id, attempted_at, outcome, http_status, latency_ms) "
    "SELECT id, at, 'delivered', http_status, latency_ms FROM sent")


def record_deliveries(session, delivered: list[Sent]) -> None:
    """Mark these messages delivered and write their attempts, in the order they were sent."""
    if session.get_bind().dialect.name == "postgresql":  # (arrays as text: psycopg adapts a list item by item)
        session.execute(RECORD_DELIVERED_FROM_ARRAYS, {
            "ids": array_text(str(s.claimed.outbox_id) for s in delivered),
            "ats": array_text(aware_utc_text(s.at) for s in delivered),
            "statuses": array_text("NULL" if s.outcome.http_status is None else str(s.outcome.http_status)
                                   for s in delivered),
            "latencies": array_text(repr(float(s.outcome.latency_ms)) for s in delivered)})
    else:
        session.execute(MARK_DELIVERED, [{"outbox_id": s.claimed.outbox_id, "at": s.at} for s in delivered])
        write_rows(session, DeliveryAttempt.__table__, [attempt_row(s) for s in delivered])


def array_text(items) -> str:
    """A PostgreSQL array literal of items that need no quoting (numbers, ISO times)."""
    return "{" + ",".join(items) + "}"


def attempt_row(sent: Sent) -> dict:
    outcome = sent.outcome
    return {"outbox_id": sent.claimed.outbox_id, "attempted_at": sent.at, "outcome": outcome.status,
            "http_status": outcome.http_status, "latency_ms": outcome.latency_ms, "error": outcome.error or None}


class LockedSubscribers:
    """Subscribers locked FOR NO KEY UPDATE on PostgreSQL, each once per transaction: concurrent sends to
    one endpoint must not both disable it and tell the admins twice (the lock does not block outbox inserts)."""

    def __init__(self, session):
        self.session, self.locked = session, {}

    def __getitem__(self, subscription_id: int) -> Subscription:
        if subscription_id not in self.locked:
            self.locked[subscription_id] = self.session.get(
                Subscription, subscription_id, with_for_update={"key_share": True}, populate_existing=True)
        return self.locked[subscription_id]


def clear_failing(sent: Sent, subscribers: LockedSubscribers, marked: Marked) -> None:
    """A delivery ends a subscriber's failing spell. Failing as read before the send, or marked so since
    by this drain: a healthy subscriber costs no query."""
    subscription_id = sent.claimed.subscription.id
    if sent.claimed.subscription.failing_since is not None or subscription_id in marked.failing:
        subscribers[subscription_id].failing_since = None
        marked.failing.discard(subscription_id)


def record_failure(session, row: OutboxMessage, sent: Sent, subscribers: LockedSubscribers,
                   settings: DeliverySettings, marked: Marked) -> str:
    now, outcome = sent.at, sent.outcome
    row.attempts += 1
    row.last_error = outcome.error
    subscription = subscribers[row.subscription_id]
    subscription.failing_since = subscription.failing_since or now
    marked.failing.add(subscription.id)
    if outcome.status == GONE:
        disable(session, subscription, f"endpoint gone at {now.isoformat()}: {outcome.error}", now, marked)
    elif now - subscription.failing_since >= timedelta(hours=settings.disable_after_h):
        disable(session, subscription, f"failing since {subscription.failing_since.isoformat()}", now, marked)
    # (one jitter per POST, not per message: a failed batch's messages come due again together, in order)
    delay = next_delay_s(row.attempts, settings.retry_schedule_s, outcome.retry_after_s,
                         rng=random.Random(f"{subscription.id} {now.isoformat()}")) if outcome.status == RETRY else None
    if delay is None:
        row.status = "parked"
        return "parked"
    row.next_attempt_at = now + timedelta(seconds=delay)
    return "failed"


def disable(session, subscription: Subscription, reason: str, now: datetime, marked: Marked) -> None:
    """Stop sending to a subscriber (what it still had is parked as it comes up) and tell the admins once."""
    marked.stopped.setdefault(subscription.id, reason)
    if not subscription.enabled:
        return
    subscription.enabled, subscription.disabled_reason = False, reason
    Outbox(session, None, now, 0).add("subscription.disabled", "", {
        "schema_version": SCHEMA_VERSION, "subscription": subscription.name, "url": redact(subscription.url), "reason": reason})


def drain(sessions: sessionmaker, http: HttpSession, settings: DeliverySettings,
          now: datetime | None = None) -> Counter:
    """Send everything due now (not what is scheduled later); counts delivered, failed, parked.

    Up to `workers` sends run at once, at most `per_endpoint` of them to one subscriber, so one slow
    receiver cannot hold up the others nor be flooded. While a batch sends, the next of the same
    subscribers is read, and handed to the same lanes if the lease still holds (for FOLLOW_ON_FOR_S at
    most). If the database cannot record what was sent (or keep the lease), the lanes stop before
    their next send and what they did not send goes back.
    """
    counts: Counter = Counter(delivered=0, failed=0, parked=0)
    due_by = now or utcnow()
    marked, connections = Marked(), Connections()  # (connections: kept from one lease to the next)
    with contextlib.closing(connections), ThreadPoolExecutor(settings.workers + 1) as pool:
        # (+1 thread: the next batch is read while one sends; the lanes end before their connections close)
        lease, batch = claim(sessions, due_by, settings)
        while batch:
            lanes = Lanes(pool, lease, http, settings, marked, connections)
            try:
                counts.update(settle(sessions, lanes, batch, due_by, settings, marked))
            finally:
                lanes.close()  # (no lane waits for more once settling ends, however it ends)
            with_database(lambda: release(sessions, lease), "let the unsent messages go")
            if lease.stopped.is_set():
                return counts  # the database went away mid-batch: what was sent is recorded, the rest waits
            lease, batch = claim(sessions, due_by, settings)
    return counts


def next_of_same(sessions: sessionmaker, subscribers: list[int], sending: list[int], due_by: datetime,
                 settings: DeliverySettings) -> list[Claimed]:
    """The next batch of the leased subscribers' due messages, leaving out those `sending` (handed to
    the lanes, not yet recorded), read while they are sent: the lanes go on without waiting for a claim."""
    with sessions() as session:
        rows = session.execute(
            select(*MESSAGE_COLUMNS).where(is_due(due_by), OutboxMessage.subscription_id.in_(subscribers),
                                           not_(among(session, OutboxMessage.id, sending)))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(settings.batch_size)).all()
        return claimed_all(session, rows)


def follow_on(sessions: sessionmaker, lease: Lease, following: Future, settings: DeliverySettings) -> list[Claimed]:
    """The batch read ahead, to send under the same lease, if the lease still holds every subscriber
    (else another worker may have them: the next messages wait for a claim)."""
    try:
        batch = following.result()
        if not batch or not renew(sessions, lease, settings):
            return []
    except DBAPIError:
        log.warning("reading the next batch failed: the subscribers are let go and claimed afresh")
        return []
    return batch


class Stream:
    """A subscriber's messages in order, for its lanes to take. The drain adds each batch it reads
    ahead while the lanes send the one before, and closes the stream when no more will come: a lane
    with nothing on its way waits for more rather than ending, so that its connection's pipeline
    does not run dry between batches."""

    def __init__(self):
        self.messages: deque[Claimed] = deque()
        self.changed = threading.Condition()
        self.closed = False

    def add(self, messages: list[Claimed]) -> None:
        with self.changed:
            self.messages.extend(messages)
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def take(self, wait: bool) -> list[Claimed]:
        """The next message, or up to the subscriber's batch size of them (subscribers that take
        batches); none when the stream is empty, after waiting for more (if asked) until it closes."""
        with self.changed:
            while wait and not self.messages and not self.closed:
                self.changed.wait()
            batch: list[Claimed] = []
            while self.messages and (not batch or len(batch) < (batch_limit(batch[0].subscription) or 1)):
                batch.append(self.messages.popleft())
            return batch


class Lanes:
    """The lanes sending a lease's messages: a stream per subscriber, taken from by up to
    `per_endpoint` lanes, which report each send to `results` as it is answered."""

    def __init__(self, pool: ThreadPoolExecutor, lease: Lease, http: HttpSession, settings: DeliverySettings,
                 marked: Marked, connections: Connections):
        self.pool, self.lease, self.http, self.settings = pool, lease, http, settings
        self.marked, self.connections = marked, connections
        self.streams: dict[int, Stream] = {}
        self.running: dict[int, list[Future]] = {}
        self.results: queue.SimpleQueue = queue.SimpleQueue()

    def add(self, batch: list[Claimed]) -> None:
        """Hand a batch to its subscribers' lanes, starting lanes for those that have too few."""
        for subscription, messages in by_subscriber(batch):
            stream = self.streams.setdefault(subscription.id, Stream())
            stream.add(messages)
            running = self.running.setdefault(subscription.id, [])
            for _ in range(min(self.settings.per_endpoint, len(running) + len(messages)) - len(running)):
                running.append(self.pool.submit(send_in_turn, subscription, stream, self.results, self.lease,
                                                self.http, self.settings, self.marked, self.connections))

    def close(self) -> None:
        """No more batches: each lane ends once its stream is sent."""
        for stream in self.streams.values():
            stream.close()

    def ended(self) -> bool:
        return all(lane.done() for running in self.running.values() for lane in running)

    def error(self) -> BaseException | None:
        """The error a lane died of, if one did."""
        return next((lane.exception() for running in self.running.values() for lane in running
                     if lane.done() and lane.exception()), None)


def by_subscriber(batch: list[Claimed]) -> list[tuple[Subscription, list[Claimed]]]:
    """Each subscriber of the batch with its messages in order."""
    messages: dict[int, tuple[Subscription, list[Claimed]]] = {}
    for claimed in batch:
        messages.setdefault(claimed.subscription.id, (claimed.subscription, []))[1].append(claimed)
    return list(messages.values())


def send_in_turn(subscription: Subscription, stream: Stream, results: queue.SimpleQueue, lease: Lease,
                 http: HttpSession, settings: DeliverySettings, marked: Marked, connections: Connections) -> None:
    """One of a subscriber's `per_endpoint` lanes: take its messages in order, a batch at a time where
    it takes batches, until the stream is closed and sent (a single lane sends them strictly in order),
    or until the drain stops: then the rest stay unsent, to go back to the queue. Signed webhooks
    reached directly go out pipelined; what that leaves (another channel, a proxy, a subscriber
    stopped) goes one by one."""
    if route := direct_route(subscription, http):
        send_pipelined(subscription, route, stream, results, lease, http, settings, marked, connections)
    while not lease.stopped.is_set() and (batch := stream.take(wait=True)):
        for sent in send(batch, http, settings, marked):
            results.put(sent)


def direct_route(subscription: Subscription, http: HttpSession) -> Route | None:
    """How a lane reaches this subscriber on a connection of its own (notifiers.pipeline), when it can:
    a signed webhook (JSON, CAP or Alertmanager body) with a well-formed URL not sent through a proxy."""
    if subscription.channel != "webhook" or not subscription.enabled:
        return None
    try:
        check_form(subscription.url)
    except UnsafeTarget:
        return None  # (the one-by-one path parks it, saying why)
    return http.route_for(subscription.url)


def send_pipelined(subscription: Subscription, route: Route, stream: Stream, results: queue.SimpleQueue,
                   lease: Lease, http: HttpSession, settings: DeliverySettings, marked: Marked,
                   connections: Connections) -> None:
    """Send the subscriber's messages up to `pipeline_depth` at once on one connection, in order, until
    the stream is closed and sent, the drain stops or the subscriber is stopped."""
    key = (subscription.id, subscription.url)
    pipeline = connections.take(key, lambda: Pipeline(subscription.url, route, settings.timeout_s,
                                                      settings.allow_private_targets, settings.pipeline_depth))
    notifier = None

    def next_request(idle: bool) -> Request | None:
        nonlocal notifier
        while not lease.stopped.is_set() and subscription.id not in marked.stopped and (
                batch := stream.take(wait=idle)):
            try:  # (one notifier for the lane; a CAP message names the messages before it: one for each)
                if not batch[0].subscription.enabled:  # (disabled since the lane began: as send parks it)
                    for sent in send(batch, http, settings, marked):
                        results.put(sent)
                    continue
                if notifier is None or subscription.format == "cap":
                    notifier = notifier_for(subscription, http, settings, batch[0].references)
                return Request(batch, *notifier.signed(message_of(batch)))
            except Exception as error:  # (as in send: this batch waits for its retry, the others go on)
                for sent in sent_with(batch, internal_error(batch, error), marked):
                    results.put(sent)
        return None

    for request, outcome in pipeline.exchange(next_request):
        for sent in sent_with(request.item, outcome, marked):
            results.put(sent)
    connections.give_back(key, pipeline)


def settle(sessions: sessionmaker, lanes: Lanes, batch: list[Claimed], due_by: datetime,
           settings: DeliverySettings, marked: Marked) -> Counter:
    """Send a lease's batch and those that follow it, recording the outcomes as they come, together,
    at least every RECORD_EVERY_S (a sent message stays unrecorded, and would be sent again after a
    crash, that long at most) or RECORD_ROWS sends, in the order they came; and keep the lease while
    it is still sending.

    The next batch is read while one sends and handed to the lanes once half of what they have is
    left (not before: until then, another worker may have taken the subscribers and renewing shows
    it); the read excludes every message handed over and not yet recorded."""
    lease, results = lanes.lease, lanes.results
    counts: Counter = Counter()
    unrecorded: list[Sent] = []
    unsettled = {claimed.outbox_id for claimed in batch}  # handed to the lanes, not yet recorded
    lanes.add(batch)
    following = read_ahead(sessions, lanes, unsettled, due_by, settings)
    waiting, since, renew_at = len(batch), time.monotonic(), renew_within(settings)
    while True:
        if following and waiting <= settings.batch_size // 2 and (following.done() or not waiting):
            more = follow_on(sessions, lease, following, settings)
            lanes.add(more)
            unsettled.update(claimed.outbox_id for claimed in more)
            waiting += len(more)
            following = read_ahead(sessions, lanes, unsettled, due_by, settings) if more else None
            if following is None:
                lanes.close()
        if not waiting:
            break
        try:
            unrecorded.append(results.get(timeout=RECORD_EVERY_S))
            waiting -= 1
        except queue.Empty:
            if error := lanes.error():  # a lane died: the others finish what they have, then its error is raised
                following = None
                lanes.close()
            # (a lane may report and finish between the timeout and this check: then its result waits)
            if lanes.ended() and results.empty():
                if error is None and lease.stopped.is_set():
                    break  # the lanes stopped: the messages they did not send go back
                raise error or RuntimeError(f"{waiting} sends never reported")
        try:
            if unrecorded and (not waiting or len(unrecorded) >= RECORD_ROWS
                               or time.monotonic() - since >= RECORD_EVERY_S):
                counts.update(record(sessions, sorted(unrecorded, key=lambda sent: sent.at), settings, marked))
                unsettled.difference_update(sent.claimed.outbox_id for sent in unrecorded)
                unrecorded, since = [], time.monotonic()
            if waiting and lease.until - utcnow() < renew_at:
                renew(sessions, lease, settings)
        except DBAPIError:
            if not lease.stopped.is_set():
                log.exception("the database stopped answering mid-batch: sending stops, %d sends wait to be "
                              "recorded", len(unrecorded))
                lease.stopped.set()
                following = None
                lanes.close()
    if unrecorded:  # sent while the database was away: recorded once it is back (else sent again later)
        counts.update(with_database(lambda: record(sessions, sorted(unrecorded, key=lambda s: s.at), settings,
                                                   marked), f"record {len(unrecorded)} sends"))
    return counts


def read_ahead(sessions: sessionmaker, lanes: Lanes, unsettled: set[int], due_by: datetime,
               settings: DeliverySettings) -> Future | None:
    """Start reading the lease's next batch, unless it has gone on for FOLLOW_ON_FOR_S (then other
    subscribers get a turn)."""
    lease = lanes.lease
    if time.monotonic() - lease.claimed_at >= FOLLOW_ON_FOR_S:
        return None
    return lanes.pool.submit(next_of_same, sessions, lease.subscribers, sorted(unsettled), due_by, settings)


def renew_within(settings: DeliverySettings) -> timedelta:
    """Renew a lease this long before it runs out: half of it, and never less than a send's deadline and
    a margin, so that when renewing fails (and the lanes stop) every send on the way ends in time."""
    return timedelta(seconds=max(settings.lease_s / 2, settings.timeout_s + 5))


def with_database(work, what: str):
    """Do `work` once the database answers again: tries with a growing pause for up to
    RECONNECT_FOR_S, then the last error is raised (and the drain's job fails, to be run again)."""
    pause, started = 0.5, time.monotonic()
    while True:
        try:
            return work()
        except DBAPIError:
            if time.monotonic() - started > RECONNECT_FOR_S:
                raise
            log.warning("the database is not answering; trying again to %s in %.1f s", what, pause)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
