"""A deadline for a whole HTTP request — connect, headers and body — whatever the other side trickles.

urllib3's timeouts bound each socket operation: a receiver sending a byte every two seconds never
trips a three-second read timeout, and held a send for 24 s. Within `with deadline(seconds):`, every
request the thread makes through a DeadlineAdapter registers its connection with one watchdog
thread, which shuts the connection's socket down when the time is up; the blocked read then fails
like a dropped connection, and the `Deadline` says it passed. Feeds and deliveries use the same.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

current = threading.local()


@dataclass
class Deadline:
    seconds: float
    ends: float
    passed: bool = False
    connections: list = field(default_factory=list)


class Watchdog:
    """One thread for the process: wakes at the earliest deadline and cuts what is still registered."""

    def __init__(self):
        self.heap: list = []
        self.order = itertools.count()
        self.wake = threading.Condition()
        self.thread: threading.Thread | None = None

    def watch(self, limit: Deadline) -> None:
        with self.wake:
            heapq.heappush(self.heap, (limit.ends, next(self.order), limit))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="http-deadlines", daemon=True)
                self.thread.start()
            self.wake.notify()

    def run(self) -> None:
        while True:
            with self.wake:
                while not self.heap or self.heap[0][0] > time.monotonic():
                    self.wake.wait(self.heap[0][0] - time.monotonic() if self.heap else None)
                _, _, limit = heapq.heappop(self.heap)
                if limit.connections:  # (cut under the lock: a request that just finished is not cut after)
                    limit.passed = True
                    for connection in limit.connections:
                        cut(connection)


def cut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


WATCHDOG = Watchdog()


@contextmanager
def deadline(seconds: float):
    """Requests made by this thread within the block end after `seconds` at most; yields the Deadline."""
    limit = Deadline(seconds, time.monotonic() + seconds)
    outer, current.limit = getattr(current, "limit", None), limit
    WATCHDOG.watch(limit)
    try:
        yield limit
    finally:
        with WATCHDOG.wake:
            limit.connections.clear()  # finished in time: nothing to cut (the entry leaves the heap when due)
        current.limit = outer


class DeadlineMixin:
    def request(self, *args, **kwargs):
        limit = getattr(current, "limit", None)
        if limit is not None:
            limit.connections.append(self)
        return super().request(*args, **kwargs)


class DeadlineHTTPConnection(DeadlineMixin, HTTPConnection):
    pass


class DeadlineHTTPSConnection(DeadlineMixin, HTTPSConnection):
    pass


class DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


POOLS = {"http": DeadlineHTTPPool, "https": DeadlineHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) answer to `deadline`."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = POOLS
        return manager
