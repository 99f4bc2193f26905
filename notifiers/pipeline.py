"""Requests to one receiver written back to back on one kept-alive connection (HTTP/1.1 pipelining,
RFC 9112 §9.3.2), their answers read in order.

Why: through requests and urllib3 a send costs about 0.75 ms of CPU (headers and body as separate
writes, a poll before each reuse, http.client's header parser), and a subscriber taking its events
in order waits a round trip for each. Here up to `depth` requests are on their way at once, still in
order on one connection: once half of them are answered, the next ones go out together in one write
(a system call per request was a third of a send's cost), and answers that came together are one read.

Safety, in the order it is checked:
- a connection pipelines only after it has answered one request and kept itself open (HTTP/1.1,
  no `Connection: close`): receivers that close after every answer get one request at a time;
- requests written but not answered when a connection ends (closed, reset, cut at the deadline)
  are written again on a new connection, one at a time from then on: a receiver that mishandles
  pipelining costs one deadline, not every message. They carry the same webhook-id, so a receiver
  that did take them drops the duplicate;
- each answer is judged as `http.post` judges one (`classify`), within the same deadline counted
  from when the receiver could start on it, and an answer cut off is a failed attempt;
- the host is resolved, checked against private networks and connected to in one step: the
  address checked is the address used.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from notifiers.base import PERMANENT, RETRY, Outcome, truncate
from notifiers.http import CUT_OFF, READ_LIMIT, Route, classify
from notifiers.targets import UnsafeTarget, lookup, refuse_private, scrub

HEAD_LIMIT = 65536  # an answer's status line and headers
DRAIN_LIMIT = 65536  # an answer body read through to keep the connection; a longer one closes it
CONNECT_S = 5.0
CLOSED = "RemoteDisconnected: the receiver closed the connection without an answer"


@dataclass
class Request:
    item: object  # the caller's, given back with the outcome
    body: bytes
    headers: dict
    written_again: bool = False


@dataclass
class Written:
    request: Request
    at: float  # monotonic


class Unanswered(Exception):
    """The connection gave no complete answer: closed, reset, cut off or past the deadline."""

    def __init__(self, reason: str, began: bool, timed_out: bool = False):
        super().__init__(reason)
        self.began = began  # some bytes of the answer came
        self.timed_out = timed_out  # the deadline passed (else the connection ended)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    snippet: bytes
    keep_open: bool


class Pipeline:
    """One lane's connection to one receiver. `exchange` writes what `next_request` gives, up to
    `depth` unanswered at once, and yields each request with its outcome, in order."""

    def __init__(self, url: str, route: Route, timeout_s: float, allow_private: bool, depth: int):
        self.url, self.route, self.timeout_s = url, route, timeout_s
        self.allow_private, self.depth = allow_private, depth
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.began = False  # some of the awaited answer has come
        self.answered_here = 0  # on the current connection
        self.free_since = 0.0  # when the receiver answered the last request: the next one's clock starts

    def exchange(self, next_request: Callable[[bool], Request | None]) -> Iterator[tuple[Request, Outcome]]:
        """`next_request(idle)`: the next request, or None when there is none now; told whether nothing is
        on its way (then it may wait for one to come: the exchange ends when it gives none).
        (The connection stays open for the next exchange when all were answered; else it closes.)"""
        waiting: deque[Written] = deque()
        again: deque[Request] = deque()
        try:
            while True:
                run: list[Request] = []
                while self.room(waiting, run) and (
                        request := again.popleft() if again else next_request(not waiting and not run)):
                    run.append(request)
                if len(run) == 1:
                    refused = self.write(run[0], waiting)
                    if refused:
                        yield run[0], refused
                elif run:
                    self.write_run(run, waiting)
                if not waiting:
                    return
                yield from self.answer(waiting, again)
        except BaseException:  # (an error of the caller's, or the exchange abandoned: answers may be pending)
            self.close()
            raise

    def room(self, waiting: deque[Written], run: list[Request]) -> bool:
        """Whether to add another request to the run written next: not on a connection that failed
        under the waiting ones; more than one only once the connection has answered and stayed open;
        and a run starts only when half of those on their way are answered (the receiver still has
        the other half to work on), so that several go out in one write."""
        if self.sock is None or not self.answered_here:
            return not waiting and not run
        on_their_way = len(waiting) + len(run)
        return on_their_way < self.depth and bool(run or len(waiting) <= self.depth // 2)

    def write_run(self, run: list[Request], waiting: deque[Written]) -> None:
        """Several requests in one write on an open connection that has answered. If it fails, the
        connection closes and they are answered as unanswered: written again, one at a time."""
        started = time.monotonic()
        try:
            self.sock.settimeout(self.timeout_s)
            self.sock.sendall(b"".join(map(self.encoded, run)))
        except OSError:
            self.close()
        waiting.extend(Written(request, started) for request in run)

    def write(self, request: Request, waiting: deque[Written]) -> Outcome | None:
        """Write one request, connecting first if need be; the outcome when it could not be written
        and nothing else is waiting (else the failure shows in the answers, and it is written again)."""
        started = time.monotonic()
        try:
            if self.sock is None:
                self.connect()
            self.sock.settimeout(self.timeout_s)
            self.sock.sendall(self.encoded(request))
        except UnsafeTarget as error:
            return Outcome(RETRY if self.allow_private else PERMANENT, error=str(error))
        except OSError as error:
            reused = self.answered_here > 0
            self.close()
            if waiting:
                waiting.append(Written(request, started))  # answered (or not) with the others
                return None
            if reused and not request.written_again:  # (a kept-alive connection the receiver had just closed)
                request.written_again = True
                return self.write(request, waiting)
            return self.failed(started, f"{type(error).__name__}: {error}")
        waiting.append(Written(request, started))
        return None

    def connect(self) -> None:
        route = self.route
        addresses = lookup(route.host, route.port)
        if not self.allow_private:
            refuse_private(route.host, addresses)
        family, kind, proto, _, address = addresses[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(min(CONNECT_S, self.timeout_s))
            sock.connect(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if route.tls:
                sock = route.tls.wrap_socket(sock, server_hostname=route.host)
        except OSError:
            sock.close()
            raise
        self.sock, self.buffer, self.answered_here = sock, bytearray(), 0
        self.free_since = time.monotonic()

    def encoded(self, request: Request) -> bytes:
        head = [f"POST {self.route.target} HTTP/1.1", f"Host: {self.route.host_header}", "Accept: */*"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        head.append(f"Content-Length: {len(request.body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body

    def answer(self, waiting: deque[Written], again: deque[Request]) -> Iterator[tuple[Request, Outcome]]:
        """Read the oldest request's answer and yield its outcome; when the connection ends instead,
        the others go back to be written again, one at a time."""
        head = waiting.popleft()
        deadline = max(head.at, self.free_since) + self.timeout_s
        try:
            if self.sock is None:
                raise Unanswered("the connection closed while the request was written", began=False)
            answer = self.read_answer(deadline)
        except Unanswered as error:
            reused = self.answered_here > 0
            self.end_connection(waiting, again)
            if reused and not (error.began or error.timed_out or head.request.written_again):
                head.request.written_again = True  # (a kept-alive connection the receiver had just closed)
                again.appendleft(head.request)
                return
            yield head.request, self.failed(head.at, str(error))
            return
        self.answered_here += 1
        self.free_since = time.monotonic()
        latency_ms = (self.free_since - head.at) * 1000
        # (the start of the answer is quoted in an error only: a delivery does not scrub it)
        snippet = scrub(answer.snippet.decode("utf-8", "replace"), self.url) if not 200 <= answer.status < 300 else ""
        yield head.request, classify(answer.status, answer.headers, snippet, latency_ms)
        if not answer.keep_open:
            self.end_connection(waiting, again)

    def end_connection(self, waiting: deque[Written], again: deque[Request]) -> None:
        """Close the connection; what was still waiting on it goes back to be written again, and the
        receiver gets one request at a time from then on."""
        self.close()
        again.extendleft(reversed([written.request for written in waiting]))
        if waiting:
            self.depth = 1
        waiting.clear()

    def failed(self, started: float, reason: str) -> Outcome:
        return Outcome(RETRY, None, (time.monotonic() - started) * 1000, truncate(scrub(reason, self.url)))

    def read_answer(self, deadline: float) -> Answer:
        self.began = bool(self.buffer)
        while True:  # (interim 1xx answers are skipped)
            status, version, headers = self.read_head(deadline)
            if not 100 <= status < 200:
                break
            if status == 101:
                raise Unanswered("the receiver switched protocols", began=True)
        snippet, keep_open = self.read_body(status, headers, deadline)
        keep_open = keep_open and version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        return Answer(status, headers, snippet, keep_open)

    def read_head(self, deadline: float) -> tuple[int, str, dict[str, str]]:
        """The status, the version and the headers (names in lower case, repeated ones joined)."""
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            if len(self.buffer) > HEAD_LIMIT:
                raise Unanswered(f"answer headers over {HEAD_LIMIT} bytes", began=True)
            self.more(deadline, CUT_OFF)
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[:end + 4]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if version not in ("HTTP/1.0", "HTTP/1.1") or not code.isdigit():
            raise Unanswered(f"not an HTTP/1.x answer: {truncate(lines[0])!r}", began=True)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return int(code), version, headers

    def read_body(self, status: int, headers: dict[str, str], deadline: float) -> tuple[bytes, bool]:
        """The start of the body and whether the connection can carry the next answer (all of it read)."""
        if status in (204, 304):
            return b"", True
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self.read_chunked(deadline)
        length = headers.get("content-length", "")
        if length.strip().isdigit():
            return self.read_length(int(length), deadline)
        if 200 <= status < 300 and "close" not in headers.get("connection", "").lower():
            raise Unanswered(CUT_OFF, began=True)  # (no framing: where it ends is unknowable)
        return self.read_until_close(deadline), False

    def read_length(self, length: int, deadline: float) -> tuple[bytes, bool]:
        wanted = length if length <= DRAIN_LIMIT else min(length, READ_LIMIT)
        while len(self.buffer) < wanted:
            self.more(deadline, f"answer cut off after {len(self.buffer)} of {length} body bytes")
        body = bytes(self.buffer[:wanted])
        del self.buffer[:wanted]
        return body[:READ_LIMIT], wanted == length

    def read_chunked(self, deadline: float) -> tuple[bytes, bool]:
        body = bytearray()
        while True:
            while (end := self.buffer.find(b"\r\n")) < 0:
                self.more(deadline, "answer cut off inside a chunk size")
            size_text = bytes(self.buffer[:end]).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise Unanswered(f"bad chunk size {size_text[:20]!r}", began=True) from None
            if size == 0:
                while (trailer_end := self.buffer.find(b"\r\n\r\n", end)) < 0:  # (no trailer: found at `end`)
                    self.more(deadline, "answer cut off in its trailer")
                del self.buffer[:trailer_end + 4]
                return bytes(body[:READ_LIMIT]), True
            if len(body) + size > DRAIN_LIMIT:
                return bytes(body[:READ_LIMIT]), False  # (too long to read through: the connection closes)
            while len(self.buffer) < end + 2 + size + 2:
                self.more(deadline, "answer cut off inside a chunk")
            body += self.buffer[end + 2:end + 2 + size]
            del self.buffer[:end + 2 + size + 2]

    def read_until_close(self, deadline: float) -> bytes:
        while len(self.buffer) < READ_LIMIT and self.fill(deadline):
            pass
        return bytes(self.buffer[:READ_LIMIT])

    def more(self, deadline: float, cut_off: str) -> None:
        """Read more of the answer; the connection ending first leaves it unanswered (cut off, if part came)."""
        if not self.fill(deadline):
            raise Unanswered(cut_off if self.began else CLOSED, began=self.began)

    def fill(self, deadline: float) -> bool:
        """Read what has come, waiting until the deadline at most; False when the connection has ended."""
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise Unanswered(f"no complete answer within the {self.timeout_s:g} s deadline", began=self.began,
                             timed_out=True) from None
        except OSError as error:
            raise Unanswered(f"{type(error).__name__}: {error}", began=self.began) from None
        self.buffer += chunk
        self.began = self.began or bool(chunk)
        return bool(chunk)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


class Connections:
    """Pipelines kept open between the batches of a drain, per receiver, each used by one lane at a time."""

    def __init__(self):
        self.idle: dict[object, list[Pipeline]] = {}
        self.lock = threading.Lock()

    def take(self, key, make: Callable[[], Pipeline]) -> Pipeline:
        with self.lock:
            kept = self.idle.get(key)
            if kept:
                return kept.pop()
        return make()

    def give_back(self, key, pipeline: Pipeline) -> None:
        with self.lock:
            self.idle.setdefault(key, []).append(pipeline)

    def close(self) -> None:
        with self.lock:
            for pipelines in self.idle.values():
                for pipeline in pipelines:
                    pipeline.close()
            self.idle.clear()
