"""Feeds: each provider yields raw payloads, parsed into one normalised DataFrame shape.

Forecast frame: region_code, valid_time (UTC), temp, apparent_temp (degC), wind_speed,
wind_gusts (m/s), precipitation (mm), snowfall (cm); one row per region and valid time.
CPI frame: area_code, month (YYYY-MM), cpi_yoy, food_cpi_yoy (percent), released_on (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


class FeedRejected(ValueError):
    """A payload that must not be used; the message names the source, the field and the reason."""


@dataclass
class Pulled:
    """One payload as fetched, and what became of it."""

    feed: str
    source: str
    payload: bytes
    request: dict = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.frame is not None
