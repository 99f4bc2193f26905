"""QWeather (和风天气): city 7-day daily forecast and current official weather warnings."""

from __future__ import annotations

import pandas as pd

from warning.feeds import FeedRejected, json_payload, provider_error
from warning.feeds.warnings import COLD_EVENTS, COLOURS, MSG_TYPES, WARNING_COLUMNS

DAILY_PATH = "/v7/weather/7d"
ALERT_PATH = "/weatheralert/v1/current/{lat:.2f}/{lon:.2f}"


def load_json(payload: bytes, source: str) -> dict:
    data = json_payload(payload, source)
    provider_error(data, source)
    if not isinstance(data, dict):
        raise FeedRejected(f"{source}: expected a JSON object")
    return data


def number(value, where: str, low: float, high: float) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise FeedRejected(f"{where}: not a number ({value!r})") from None
    if not low <= result <= high:
        raise FeedRejected(f"{where}: value {result:g} outside {low:g}..{high:g}")
    return result


def parse_qweather_daily(payload: bytes, region_code: str, source: str) -> pd.DataFrame:
    """Metric units (the default): temperatures degC, wind km/h; days are local dates."""
    data = load_json(payload, source)
    if data.get("code") != "200":
        raise FeedRejected(f"{source}: code: QWeather answered {data.get('code')!r}, not '200'")
    days = data.get("daily")
    if not isinstance(days, list) or not days:
        raise FeedRejected(f"{source}: daily: missing or empty")
    rows = []
    for index, day in enumerate(days):
        where = f"{source}: daily.{index}"
        try:
            date = pd.Timestamp(day["fxDate"])
        except (KeyError, ValueError, TypeError):
            raise FeedRejected(f"{where}.fxDate: missing or not a date") from None
        wind_kmh = max(number(day.get("windSpeedDay"), f"{where}.windSpeedDay", 0, 400),
                       number(day.get("windSpeedNight"), f"{where}.windSpeedNight", 0, 400))
        rows.append({"region_code": region_code, "day": date,
                     "tmin": number(day.get("tempMin"), f"{where}.tempMin", -80, 60),
                     "tmax": number(day.get("tempMax"), f"{where}.tempMax", -80, 60),
                     "wind_max_ms": wind_kmh / 3.6})
    frame = pd.DataFrame(rows)
    if not frame["day"].is_monotonic_increasing or not frame["day"].is_unique:
        raise FeedRejected(f"{source}: daily.fxDate: days must strictly increase")
    return frame


def parse_qweather_alerts(payload: bytes, region_code: str, source: str) -> pd.DataFrame:
    """Current warnings at one region's coordinates; only the cold-weather event types are kept."""
    data = load_json(payload, source)
    alerts = data.get("alerts")
    if alerts is None and (data.get("metadata") or {}).get("zeroResult"):
        alerts = []
    if not isinstance(alerts, list):
        raise FeedRejected(f"{source}: alerts: missing")
    rows = []
    for index, alert in enumerate(alerts):
        where = f"{source}: alerts.{index}"
        try:
            code = str(alert["eventType"]["code"])
            kind = alert["messageType"]["code"]
            row = {"region_code": region_code, "warning_id": str(alert["id"]), "source": "qweather",
                   "event_code": code, "event_name": alert["eventType"].get("name") or COLD_EVENTS.get(code, ""),
                   "severity": alert.get("severity") or "", "colour": COLOURS.get(str((alert.get("color") or {}).get("code") or "").lower(), ""),
                   "msg_type": MSG_TYPES[kind], "supersedes": list(alert["messageType"].get("supersedes") or []),
                   "sent": timestamp(alert.get("issuedTime"), f"{where}.issuedTime", required=True),
                   "onset": timestamp(alert.get("onsetTime") or alert.get("effectiveTime"), f"{where}.onsetTime"),
                   "expires": timestamp(alert.get("expireTime") or alert.get("expiredTime"), f"{where}.expireTime"),
                   "headline": alert.get("headline") or ""}
        except (KeyError, TypeError):
            raise FeedRejected(f"{where}: id, eventType.code and messageType.code are required") from None
        if code in COLD_EVENTS:
            rows.append(row)
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)


def timestamp(value, where: str, required: bool = False):
    if not value:
        if required:
            raise FeedRejected(f"{where}: missing")
        return None
    try:
        moment = pd.Timestamp(value)
    except ValueError:
        raise FeedRejected(f"{where}: not a time ({value!r})") from None
    if moment.tzinfo is None:
        raise FeedRejected(f"{where}: time without a zone ({value!r})")
    return moment.tz_convert("UTC").to_pydatetime()
