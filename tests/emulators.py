"""Stand-ins for providers, answering in their real response formats (for tests and benchmarks)."""

from __future__ import annotations

import functools
import json
import re
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import orjson
from werkzeug.wrappers import Request, Response


def open_meteo_location(lat: float, lon: float, start: datetime, hours: int, cold: bool = False,
                        front_h: int = 72) -> dict:
    """A location's answer; with `cold`, a sharp drop in strong wind `front_h` hours after `start`."""
    steps = np.arange(hours)
    base = 5.0 - (lat - 30) * 0.8
    temps = base + 6 * np.sin((steps % 24 - 9) / 24 * 2 * np.pi)
    if cold:
        temps = temps - np.where(steps >= front_h, 14.0, 0.0)
    wind_kmh = np.where(cold & (steps >= front_h - 12) & (steps < front_h + 24), 45.0, 10.0 + (lon % 5))
    return {"latitude": round(lat * 8) / 8, "longitude": round(lon * 8) / 8, "generationtime_ms": 0.2,
            "utc_offset_seconds": 0, "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 100.0,
            "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "apparent_temperature": "°C",
                             "wind_speed_10m": "km/h", "wind_gusts_10m": "km/h", "precipitation": "mm",
                             "snowfall": "cm"},
            "hourly": {"time": hour_strings(start, hours), "temperature_2m": np.round(temps, 1).tolist(),
                       "apparent_temperature": np.round(temps - 3, 1).tolist(),
                       "wind_speed_10m": np.round(wind_kmh, 1).tolist(),
                       "wind_gusts_10m": np.round(wind_kmh * 1.5, 1).tolist(),
                       "precipitation": [0.0] * hours, "snowfall": [0.0] * hours}}


@functools.lru_cache(maxsize=8)
def hour_strings(start: datetime, hours: int) -> list[str]:
    """The time axis, formatted once: every location of a request shares it, and formatting it for each
    made the emulator, not the cycle it stands in for, the national benchmark's pull."""
    return [(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in range(hours)]


def forecast_window(request: Request, now: datetime | None,
                    front_at: datetime | None = None) -> tuple[list, list, datetime, int, int]:
    """The coordinates asked for, the first hour, the hours and the hour the cold air arrives (at
    `front_at`, or tomorrow UTC however many past days are asked), from an Open-Meteo query; days start
    from `now`'s or today's."""
    lats = [float(v) for v in request.args["latitude"].split(",")]
    lons = [float(v) for v in request.args["longitude"].split(",")]
    past, days = int(request.args.get("past_days", 0)), int(request.args.get("forecast_days", 7))
    today = (now or datetime.now(timezone.utc)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=past)
    front_h = (past + 1) * 24 if front_at is None else int((front_at - start) / timedelta(hours=1))
    return lats, lons, start, (past + days) * 24, front_h


def json_answer(body: list) -> Response:
    # (orjson, for the same reason as hour_strings: the emulator shares the 2 cores with the cycle)
    return Response(orjson.dumps(body if len(body) > 1 else body[0]), content_type="application/json")


def open_meteo_handler(cold: bool = False, now: datetime | None = None, front_at: datetime | None = None):
    """A handler answering /v1/forecast for any number of coordinates, like Open-Meteo does; its days
    start from `now`'s (a fixed clock) or from today's; with `cold`, the front comes tomorrow or at `front_at`."""
    def handle(request: Request) -> Response:
        lats, lons, start, hours, front_h = forecast_window(request, now, front_at)
        return json_answer([open_meteo_location(la, lo, start, hours, cold, front_h) for la, lo in zip(lats, lons)])
    return handle


def open_meteo_archive_handler(cold: bool = False, front_at: datetime | None = None):
    """/v1/archive as Open-Meteo's historical weather API answers it
    (https://open-meteo.com/en/docs/historical-weather-api): the forecast's format, for the hours from
    `start_date` to `end_date` (inclusive, GMT) and only the variables asked (built: with `cold`, the
    front came at `front_at`)."""
    def handle(request: Request) -> Response:
        lats = [float(v) for v in request.args["latitude"].split(",")]
        lons = [float(v) for v in request.args["longitude"].split(",")]
        first = datetime.fromisoformat(request.args["start_date"]).replace(tzinfo=timezone.utc)
        last = datetime.fromisoformat(request.args["end_date"]).replace(tzinfo=timezone.utc)
        hours = ((last - first).days + 1) * 24
        front_h = int((front_at - first) / timedelta(hours=1)) if front_at else hours
        asked = {"time", *request.args["hourly"].split(",")}
        return json_answer([only(open_meteo_location(la, lo, first, hours, cold, front_h), asked)
                            for la, lo in zip(lats, lons)])
    return handle


def only(location: dict, variables: set[str]) -> dict:
    return location | {key: {k: v for k, v in location[key].items() if k in variables} for key in ("hourly", "hourly_units")}


def open_meteo_ensemble_handler(members: int = 51, cold_members: int = 0, now: datetime | None = None,
                                front_at: datetime | None = None):
    """/v1/ensemble as Open-Meteo's ensemble API answers it (https://open-meteo.com/en/docs/ensemble-api):
    one hourly series per member, the control run unsuffixed (temperature_2m, temperature_2m_member01, …).
    The first `cold_members` members bring open_meteo_handler(cold=True)'s cold front, the others its calm
    weather (built: the share of members meeting a level is then known)."""
    def handle(request: Request) -> Response:
        lats, lons, start, hours, front_h = forecast_window(request, now, front_at)
        return json_answer([ensemble_location(la, lo, start, hours, members, cold_members, front_h)
                            for la, lo in zip(lats, lons)])
    return handle


def ensemble_location(lat: float, lon: float, start: datetime, hours: int, members: int, cold_members: int,
                      front_h: int) -> dict:
    runs = {cold: open_meteo_location(lat, lon, start, hours, cold, front_h) for cold in (False, True)}
    hourly, units = {"time": runs[False]["hourly"]["time"]}, {"time": "iso8601"}
    for member in range(members):
        run, suffix = runs[member < cold_members], f"_member{member:02d}" if member else ""
        for variable in ("temperature_2m", "wind_speed_10m"):
            hourly[variable + suffix], units[variable + suffix] = run["hourly"][variable], run["hourly_units"][variable]
    return {key: value for key, value in runs[False].items() if not key.startswith("hourly")} | {
        "hourly_units": units, "hourly": hourly}


def qweather_daily_handler(drop_c: float = 14.0):
    """/v7/weather/7d: a week whose third day's minimum falls by `drop_c` in strong wind."""
    def handle(request: Request) -> Response:
        today = datetime.now(timezone(timedelta(hours=8))).date()
        days = []
        for offset in range(7):
            tmin = -5 - (drop_c if offset >= 2 else 0)
            days.append({"fxDate": (today + timedelta(days=offset)).isoformat(), "tempMax": str(tmin + 8),
                         "tempMin": str(tmin), "windSpeedDay": "45" if offset == 2 else "10", "windSpeedNight": "12"})
        return Response(json.dumps({"code": "200", "updateTime": "", "daily": days}), content_type="application/json")
    return handle


def qweather_alert_handler(alerting_lat: float):
    """/weatheralert/v1/current/{lat}/{lon}: a cold-wave warning at one latitude, none elsewhere."""
    def handle(request: Request) -> Response:
        lat = float(request.path.split("/")[-2])
        alerts = [] if abs(lat - alerting_lat) > 0.005 else [{
            "id": f"cw-{lat}", "senderName": "气象台", "issuedTime": datetime.now(timezone.utc).isoformat(),
            "messageType": {"code": "alert"}, "eventType": {"name": "寒潮", "code": "1005"}, "severity": "moderate",
            "color": {"code": "orange"}, "onsetTime": None,
            "expireTime": (datetime.now(timezone.utc) + timedelta(days=2)).isoformat(), "headline": "寒潮橙色预警"}]
        return Response(json.dumps({"metadata": {"zeroResult": not alerts}, "alerts": alerts}),
                        content_type="application/json")
    return handle


def synthetic_townships(counties: list[dict], total: int, seed: int = 3) -> list[dict]:
    """`total` townships spread evenly over the counties that have coordinates (regions.csv rows), each
    with a nine-digit code (its county's and a serial from 001) and a place within 0.2 degrees of the
    county's centre."""
    placed = [c for c in counties if c["latitude"]]
    rng = np.random.default_rng(seed)
    townships = []
    for index, county in enumerate(placed):
        for serial in range(1, total // len(placed) + (index < total % len(placed)) + 1):
            dlat, dlon = rng.uniform(-0.2, 0.2, 2)
            townships.append(county | {"code": f"{county['code']}{serial:03d}", "name": f"{county['name']}第{serial}镇",
                                       "latitude": f"{float(county['latitude']) + dlat:.4f}",
                                       "longitude": f"{float(county['longitude']) + dlon:.4f}"})
    return townships


def webhook_receiver(on_post, port: int = 0, answer: bytes | list[bytes] = b"ok") -> ThreadingHTTPServer:
    """A receiver that keeps connections alive (HTTP/1.1) as production receivers do; werkzeug's test
    server closes each one. It answers 200 with `answer` after calling on_post(client_port, headers, body);
    an answer in parts is written a part at a time, a tenth of a second apart (a slow receiver)."""
    parts = answer if isinstance(answer, list) else [answer]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # (headers and body go out as two writes: no 40 ms delayed-ACK wait)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            on_post(self.client_address[1], self.headers, body)
            self.send_response(200)
            self.send_header("content-length", str(sum(map(len, parts))))
            self.end_headers()
            for number, part in enumerate(parts):
                time.sleep(0.1 if number else 0)
                self.wfile.write(part)
                self.wfile.flush()

        do_GET = do_POST  # (a start-up probe)

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


class RawServer:
    """A socket server on loopback (built here) that reads each request whole and answers with raw
    bytes: `answers` in turn (the last one again after), each a head sent at once and a body sent a
    byte every `every_s` seconds (all at once with 0), holding the connection as long as that takes.
    What a broken receiver, a stalled one or a proxy dropping the connection sends."""

    def __init__(self, answers: list[tuple[bytes, bytes]], every_s: float = 0.0):
        import socket
        import threading
        self.answers, self.every_s, self.requests = list(answers), every_s, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        import threading
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            head, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            threading.Thread(target=self.answer, args=(connection, head, body), daemon=True).start()

    def answer(self, connection, head: bytes, body: bytes):
        with connection:
            try:
                read_request(connection)
                self.requests += 1
                connection.sendall(head + (b"" if self.every_s else body))
                for byte in body if self.every_s else b"":
                    time.sleep(self.every_s)
                    connection.sendall(bytes([byte]))
            except OSError:  # the client gave up: what a deadline is for
                return

    def close(self):
        self.listener.close()


def read_request(connection) -> bytes:
    """A whole HTTP request: the headers, then as many body bytes as Content-Length says."""
    data = b""
    while not request_complete(data):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def request_complete(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    return bool(separator) and len(body) >= (int(length.group(1)) if length else 0)


class PipelineReceiver:
    """A keep-alive HTTP/1.1 receiver on loopback, built here, that shows how requests reach it: it
    reads what has come on a connection within `latency_s` of its first bytes (a long link), takes
    every complete request in it (pipelined ones arrive together: RFC 9112 §9.3.2 asks a server to
    answer them in order) and answers each with `answer(n)` (n counts requests from 0), in order.

    `pipelining=False` is a naive server: it answers the first request of what it read and drops
    the rest, as servers that never expected pipelining do. An answer saying `Connection: close` is
    the last on its connection: what else was read on it is dropped unanswered."""

    def __init__(self, answer=None, latency_s: float = 0.0, pipelining: bool = True):
        import socket
        import threading
        self.answer = answer or (lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        self.latency_s, self.pipelining = latency_s, pipelining
        self.requests: list[tuple[int, dict, bytes]] = []  # (connection number, headers, body) as they came
        self.most_waiting = 0  # the most complete requests found waiting together on a connection
        self.next_there = []  # per request: whether the next one had come by the time it was answered
        self.lock = threading.Lock()
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        import threading
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(connection, self.connections), daemon=True).start()

    def serve(self, connection, number: int):
        data = b""
        with connection:
            try:
                while chunk := connection.recv(65536):
                    data += chunk + self.arrived_within(connection, self.latency_s)
                    requests = []
                    while request_complete(data):
                        head, _, rest = data.partition(b"\r\n\r\n")
                        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                        requests.append((head, rest[:length]))
                        data = rest[length:]
                    if not self.pipelining and requests:
                        requests, data = requests[:1], b""
                    self.most_waiting = max(self.most_waiting, len(requests))
                    for index, (head, body) in enumerate(requests):
                        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
                        with self.lock:
                            self.requests.append((number, {k.lower(): v for k, v in headers.items()}, body))
                            n = len(self.requests) - 1
                        answer = self.answer(n)
                        self.next_there.append(index + 1 < len(requests) or bool(data) or self.more_came(connection))
                        connection.sendall(answer)
                        if b"connection: close" in answer.lower():
                            return
            except OSError:
                return

    @staticmethod
    def more_came(connection) -> bool:
        """Whether bytes are waiting on the connection, unread."""
        import socket
        try:
            return bool(connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except BlockingIOError:
            return False

    @staticmethod
    def arrived_within(connection, seconds: float) -> bytes:
        """What else comes on the connection within `seconds` of the first bytes (the link's latency)."""
        if not seconds:
            return b""
        time.sleep(seconds)
        connection.setblocking(False)
        try:
            return connection.recv(1 << 20)
        except BlockingIOError:
            return b""
        finally:
            connection.setblocking(True)

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, _, body in self.requests]

    def close(self):
        self.listener.close()
