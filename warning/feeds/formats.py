"""Every payload format coldwarn reads, so live pulls, scenarios and replays parse alike."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from triggers.grid import HourlyGrid
from warning.feeds import FeedRejected, Pulled
from warning.feeds.cap import parse_cap
from warning.feeds.cpi import parse_cpi_csv, parse_cpi_json, parse_nbs_index
from warning.feeds.ensemble import parse_ensemble
from warning.feeds.openmeteo import parse_forecast
from warning.feeds.qweather import parse_qweather_alerts, parse_qweather_daily

log = logging.getLogger(__name__)
CHINA = "Asia/Shanghai"


@dataclass(frozen=True)
class Format:
    feed: str   # forecast, ensemble, observed, cpi, warnings
    shape: str  # hourly, daily, ensemble, observed (hourly, past), cpi, warnings: what it yields
    parse: Callable[[bytes, dict, str], pd.DataFrame | HourlyGrid]  # a grid for hourly shapes


FORMATS = {
    "open-meteo": Format("forecast", "hourly", lambda p, r, s: parse_forecast(p, r["regions"], s)),
    "open-meteo-ensemble": Format("ensemble", "ensemble",
                                  lambda p, r, s: parse_ensemble(p, r["regions"], r["zones"], s)),
    "open-meteo-archive": Format("observed", "observed", lambda p, r, s: parse_forecast(p, r["regions"], s)),
    "qweather-daily": Format("forecast", "daily", lambda p, r, s: parse_qweather_daily(p, r["region"], s)),
    "qweather-alerts": Format("warnings", "warnings", lambda p, r, s: parse_qweather_alerts(p, r["region"], s)),
    "cap": Format("warnings", "warnings", lambda p, r, s: parse_cap(p, s)),
    "cpi-csv": Format("cpi", "cpi", lambda p, r, s: parse_cpi_csv(p, s)),
    "cpi-json": Format("cpi", "cpi", lambda p, r, s: parse_cpi_json(p, s)),
    "cpi-nbs": Format("cpi", "cpi", lambda p, r, s: parse_nbs_index(p, s)),
}


# Parsing holds the interpreter anyway, and a parsed JSON document takes ~17 times its payload's
# memory while it is read (29 MB for a request of 100 locations): fetching threads parse in turn, not
# four documents at once (a third of a national pull's peak).
ONE_PARSE_AT_A_TIME = threading.Lock()


def parsed(fmt: str, source: str, payload: bytes, request: dict | None = None, key: str = "",
           attempts: int = 1, elapsed_ms: float = 0.0) -> Pulled:
    """A Pulled whose data is the parsed payload, or whose error says why it was refused."""
    spec = FORMATS[fmt]
    pulled = Pulled(spec.feed, fmt, source, payload, key or source, request or {}, attempts=attempts,
                    elapsed_ms=elapsed_ms)
    try:
        with ONE_PARSE_AT_A_TIME:
            data = spec.parse(payload, pulled.request, source)
    except FeedRejected as error:
        pulled.error = str(error)
    except Exception as error:  # a payload no parser check foresaw: refused, never the cycle's end
        log.exception("%s: %s payload could not be read", source, fmt)
        pulled.error = f"{source}: could not be read ({type(error).__name__}: {str(error)[:300]})"
    else:
        pulled.notes = list(data.attrs.get("notes", []))
        if pulled.request.get("shift_days"):
            data = shifted(data, spec.shape, pulled.request["shift_days"])
        pulled.data, pulled.rows = data, data.cells() if isinstance(data, HourlyGrid) else len(data)
    return pulled


def shifted(data: pd.DataFrame | HourlyGrid, shape: str, days: int) -> pd.DataFrame | HourlyGrid:
    """A recorded payload's data moved `days` later: a scenario replayed on today's clock. The shift
    is in the request, so a replay of the cycle re-reads the stored payload the same way. A CPI
    month moves with its release date (released 30 Nov, it is October's), in Beijing's calendar."""
    delta = pd.Timedelta(days=days)
    if isinstance(data, HourlyGrid):
        return data.shifted(delta)
    data = data.copy()
    if shape == "ensemble":
        data["day"] = data["day"] + delta
    elif shape == "warnings":
        for column in ("sent", "onset", "expires"):
            data[column] = data[column] + delta
    elif shape == "cpi":
        before = data["released_on"].dt.tz_convert(CHINA)
        after = before + delta
        months = (after.dt.year * 12 + after.dt.month) - (before.dt.year * 12 + before.dt.month)
        recorded = pd.PeriodIndex(data["month"], freq="M")
        data["month"] = [str(month + int(moved)) for month, moved in zip(recorded, months)]
        data["released_on"] = data["released_on"] + delta
    return data


def failed(fmt: str, source: str, reason: str, request: dict | None = None, key: str = "",
           attempts: int = 1, elapsed_ms: float = 0.0) -> Pulled:
    return Pulled(FORMATS[fmt].feed, fmt, source, None, key or source, request or {}, error=reason,
                  attempts=attempts, elapsed_ms=elapsed_ms)


def reused(fmt: str, source: str, request: dict, key: str) -> Pulled:
    """Not fetched: the cycle takes this key's last good payload (a feed on its own, slower schedule)."""
    return Pulled(FORMATS[fmt].feed, fmt, source, None, key, request, reused=True, attempts=0)


def shape_of(pulled: Pulled) -> str:
    return FORMATS[pulled.format].shape
