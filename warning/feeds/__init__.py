"""Feeds: sources yield raw payloads, each parsed by its format into one normalised DataFrame.

Hourly forecast frame: region_code, valid_time (UTC), temp, apparent_temp (degC), wind_speed,
wind_gusts (m/s), precipitation (mm), snowfall (cm).
Daily forecast frame (providers that only give days): region_code, day (local date), tmin, tmax,
wind_max_ms.
CPI frame: area_code, month (YYYY-MM), cpi_yoy, food_cpi_yoy (percent), released_on (UTC).
Warnings frame: see warning.feeds.warnings.WARNING_COLUMNS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


class FeedRejected(ValueError):
    """A payload that must not be used; the message names the source, the field and the reason."""


@dataclass
class Pulled:
    """One payload as fetched (or the failure to fetch it), and what became of it."""

    feed: str
    format: str
    source: str
    payload: bytes | None
    key: str = ""  # the same request gets the same key, so its last good payload can stand in
    request: dict = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    error: str | None = None
    attempts: int = 1
    elapsed_ms: float = 0.0
    fallback_from: int | None = None

    @property
    def ok(self) -> bool:
        return self.frame is not None
