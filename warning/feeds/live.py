"""Live feeds: Open-Meteo or QWeather forecasts, QWeather or CAP warnings, a CPI table."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pandas as pd

from triggers.weather import LONGEST_LOOKBACK_DAYS
from warning.feeds import Pulled
from warning.feeds.formats import FORMATS, failed, parsed, reused
from warning.feeds.http import Fetched, Fetcher, FetchFailed
from warning.feeds.ensemble import HOURLY_PARAMETER as ENSEMBLE_PARAMETER
from warning.feeds.openmeteo import HOURLY_PARAMETER
from warning.feeds.qweather import ALERT_PATH, DAILY_PATH
from warning.models import utcnow
from warning.settings import FeedSettings

PARALLEL_REQUESTS = 4  # polite to providers, enough to fill a 2-core machine's waits
# Past days in GMT that give every rule its whole local days in any zone: the first GMT day starts
# mid-day locally everywhere but UTC (16 h of it in UTC+8), is incomplete and so is dropped.
PAST_DAYS_NEEDED = LONGEST_LOOKBACK_DAYS + 1
OBSERVED_PARAMETER = "temperature_2m,wind_speed_10m"  # what the daily rules read of what happened


def batch_key(codes: list[str], fmt: str = "open-meteo") -> str:
    return f"{fmt}:" + hashlib.sha1(",".join(codes).encode()).hexdigest()[:16]


class LiveSource:
    name = "live"

    def __init__(self, settings: FeedSettings, fetcher: Fetcher, clock: Callable[[], datetime] = utcnow,
                 parallel: int = PARALLEL_REQUESTS, last_fetched: Callable[[str], dict[str, datetime]] | None = None):
        """`last_fetched(feed)`: when each key of the feed was last fetched good (wall clock), for feeds
        pulled on their own schedule."""
        self.settings, self.fetcher, self.clock, self.parallel = settings, fetcher, clock, parallel
        self.last_fetched = last_fetched

    @property
    def now(self) -> datetime:
        return self.clock()

    def pull(self, regions: pd.DataFrame) -> list[Pulled]:
        located = regions.dropna(subset=["latitude", "longitude"])
        jobs = (self.forecast_jobs(located) + self.ensemble_jobs(located) + self.observed_jobs(located)
                + self.warning_jobs(located) + self.cpi_jobs())
        with ThreadPoolExecutor(self.parallel) as pool:
            return list(pool.map(lambda job: job(), jobs))

    def fetch(self, fmt: str, url: str, params=None, headers=None, request=None, key="") -> Pulled:
        source = f"{url} [{key}]" if key else url  # the full query is kept in the request column
        try:
            got = read(self.fetcher, url, params, headers)
        except (FetchFailed, OSError) as error:
            attempts = getattr(error, "attempts", 1)
            return failed(fmt, source, f"{url}: {error}", request, key, attempts, getattr(error, "elapsed_ms", 0.0))
        pulled = parsed(fmt, source, got.payload, request, key, got.attempts, got.elapsed_ms)
        pulled.pack()  # here, in the fetching thread: the archive's copy, while other requests wait on the network
        return pulled

    def forecast_jobs(self, located: pd.DataFrame) -> list[Callable[[], Pulled]]:
        if self.settings.forecast == "qweather":
            return [self.qweather_job("qweather-daily", DAILY_PATH, row, {"location": f"{row.longitude:.2f},{row.latitude:.2f}"})
                    for row in located.itertuples()]
        om = self.settings.open_meteo
        jobs = []
        for start in range(0, len(located), om.batch_size):
            batch = located.iloc[start:start + om.batch_size]
            codes = batch["code"].tolist()
            params = coordinates(batch) | {"hourly": HOURLY_PARAMETER, "models": om.model, "timezone": "GMT",
                                           "forecast_days": om.forecast_days, "past_days": max(om.past_days, PAST_DAYS_NEEDED)}
            jobs.append(lambda p=params, c=codes: self.fetch("open-meteo", om.url, p,
                                                             request={"regions": c, "params": p}, key=batch_key(c)))
        return jobs

    def ensemble_jobs(self, located: pd.DataFrame) -> list[Callable[[], Pulled]]:
        """Each batch's members, reduced to days in each region's zone (named in the request, for replays)."""
        ens = self.settings.ensemble
        if not ens.enabled:
            return []
        batches = []
        for start in range(0, len(located), ens.batch_size):
            batch = located.iloc[start:start + ens.batch_size]
            codes = batch["code"].tolist()
            zones = batch["timezone"].fillna(self.settings.timezone).tolist()
            params = coordinates(batch) | {"hourly": ENSEMBLE_PARAMETER, "models": ens.model, "timezone": "GMT",
                                           "forecast_days": ens.forecast_days, "past_days": PAST_DAYS_NEEDED}
            batches.append((batch_key(codes, "open-meteo-ensemble"), params, {"regions": codes, "zones": zones, "params": params}))
        return self.scheduled("open-meteo-ensemble", ens.url, ens.every_h, batches)

    def observed_jobs(self, located: pd.DataFrame) -> list[Callable[[], Pulled]]:
        """What happened: each batch's hourly reanalysis over the `days` before today (UTC); the newest
        days come as null until the reanalysis reaches them (cut, and said in the notes)."""
        obs = self.settings.observed
        if not obs.enabled:
            return []
        today = self.now.astimezone(timezone.utc).date()
        span = {"start_date": (today - timedelta(days=obs.days)).isoformat(), "end_date": (today - timedelta(days=1)).isoformat()}
        batches = []
        for start in range(0, len(located), obs.batch_size):
            batch = located.iloc[start:start + obs.batch_size]
            codes = batch["code"].tolist()
            params = coordinates(batch) | {"hourly": OBSERVED_PARAMETER, "timezone": "GMT"} | span
            batches.append((batch_key(codes, "open-meteo-archive"), params, {"regions": codes, "params": params}))
        return self.scheduled("open-meteo-archive", obs.url, obs.every_h, batches)

    def scheduled(self, fmt: str, url: str, every_h: float, batches: list[tuple[str, dict, dict]]) -> list[Callable[[], Pulled]]:
        """A feed on its own schedule: a batch fetched within `every_h` (wall clock) is reused, not fetched."""
        fetched = self.last_fetched(FORMATS[fmt].feed) if self.last_fetched else {}
        recent = utcnow() - timedelta(hours=every_h)
        return [(lambda r=request, k=key: reused(fmt, f"{url} [{k}]", r, k)) if fetched.get(key, recent) > recent
                else (lambda p=params, r=request, k=key: self.fetch(fmt, url, p, request=r, key=k))
                for key, params, request in batches]

    def qweather_job(self, fmt: str, path: str, row, params: dict | None = None):
        qw = self.settings.qweather
        url = qw.api_host.rstrip("/") + path
        headers = {"X-QW-Api-Key": qw.api_key}
        return lambda: self.fetch(fmt, url, params, headers, request={"region": row.code}, key=f"{fmt}:{row.code}")

    def warning_jobs(self, located: pd.DataFrame) -> list[Callable[[], Pulled]]:
        if self.settings.warnings == "qweather":
            return [self.qweather_job("qweather-alerts", ALERT_PATH.format(lat=row.latitude, lon=row.longitude), row)
                    for row in located.itertuples()]
        if self.settings.warnings == "cap" and self.settings.cap_url:
            return [lambda: self.fetch("cap", self.settings.cap_url, key="cap")]
        return []

    def cpi_jobs(self) -> list[Callable[[], Pulled]]:
        cpi = self.settings.cpi
        if not cpi.url:
            return []
        return [lambda: self.fetch(f"cpi-{cpi.format}", cpi.url, key="cpi")]


def coordinates(batch: pd.DataFrame) -> dict[str, str]:
    """A batch's locations as Open-Meteo's APIs take several: comma-separated, in the batch's order."""
    return {"latitude": ",".join(f"{v:.4f}" for v in batch["latitude"]),
            "longitude": ",".join(f"{v:.4f}" for v in batch["longitude"])}


def read(fetcher: Fetcher, url: str, params=None, headers=None) -> Fetched:
    """An http(s) URL through the fetcher; anything else is a local file path."""
    if urlsplit(url).scheme in ("http", "https"):
        return fetcher.get(url, params=params, headers=headers)
    return Fetched(Path(url).read_bytes(), 1, 0.0)
