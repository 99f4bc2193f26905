"""Feeds: sources yield raw payloads, each parsed by its format into one normalised shape.

Hourly forecast (and observed series): a triggers.grid.HourlyGrid of the request's regions x its UTC
hours, values temp, apparent_temp, ground_temp (degC), wind_speed (m/s) — built once, when parsed.
Daily forecast frame (providers that only give days): region_code, day (local date), tmin, tmax,
wind_max_ms.
CPI frame: area_code, month (YYYY-MM), cpi_yoy, food_cpi_yoy (percent), released_on (UTC).
Warnings frame: see warning.feeds.warnings.WARNING_COLUMNS.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from triggers.grid import HourlyGrid
from notifiers import jsontext


class FeedRejected(ValueError):
    """A payload that must not be used; the message names the source, the field and the reason."""


def provider_words(data) -> str | None:
    """An error answer's own words: Open-Meteo's {"error": true, "reason": …}, QWeather's
    {"error": {"title", "detail", "invalidParams"}}; None for anything else."""
    if not isinstance(data, dict) or not data.get("error"):
        return None
    error = data["error"]
    if not isinstance(error, dict):
        return str(data.get("reason") or "no reason given")[:500]
    words = ": ".join(str(error[k]) for k in ("title", "detail") if error.get(k)) or str(error)
    if isinstance(error.get("invalidParams"), list):
        words += f" (parameters: {', '.join(map(str, error['invalidParams']))})"
    return words[:500]


def provider_error(data, source: str) -> None:
    """Refuse an error answer that came with a success status, in the provider's own words."""
    words = provider_words(data)
    if words is not None:
        raise FeedRejected(f"{source}: the provider answered with an error: {words}")


def json_payload(payload: bytes, source: str):
    """A payload's JSON, read by orjson (a national pull reads hundreds of megabytes; the standard library
    took a quarter of it), refused with the standard library's own account of what is wrong."""
    try:
        return jsontext.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FeedRejected(f"{source}: not valid JSON: {error}") from None
    except RecursionError:  # orjson stops at 1,024 levels, the standard library at the stack's end
        raise FeedRejected(f"{source}: not valid JSON: nested too deeply") from None


@dataclass
class Pulled:
    """One payload as fetched (or the failure to fetch it), and what became of it."""

    feed: str
    format: str
    source: str
    payload: bytes | None
    key: str = ""  # the same request gets the same key, so its last good payload can stand in
    request: dict = field(default_factory=dict)
    data: pd.DataFrame | HourlyGrid | None = None  # the parsed payload (a cycle may let go of it once used)
    rows: int | None = None  # how many rows (hourly cells) it read; None when nothing usable came
    error: str | None = None
    attempts: int = 1
    elapsed_ms: float = 0.0
    fallback_from: int | None = None
    reused: bool = False  # not fetched: its last good payload is recent enough (the ensemble's own schedule)
    notes: list[str] = field(default_factory=list)  # what was read but is worth saying (a cut horizon)
    packed: bytes | None = None  # the payload gzipped for the archive, once packed (the raw bytes let go)
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        return self.rows is not None

    @property
    def fetched(self) -> bool:
        """Whether a payload came (read or refused), as against a failure to fetch one."""
        return self.payload is not None or self.packed is not None

    def pack(self) -> None:
        """Gzip the payload for the archive and let the raw bytes go: a national pull of townships held
        640 MB of them until the cycle stored them. (zlib's usual level: a tenth larger than at the
        most, 9, in half the time.)"""
        if self.payload is not None:
            self.packed, self.sha256 = gzip.compress(self.payload, 6), hashlib.sha256(self.payload).hexdigest()
            self.payload = None
