"""Choosing where a cycle's feeds come from: a scenario, or the live providers."""

from __future__ import annotations

from warning.cycle import last_fetched
from warning.feeds.http import Fetcher
from warning.feeds.live import LiveSource
from warning.feeds.scenario import load_scenario
from warning.models import utcnow
from warning.runtime import Runtime
from warning.scenario_data import ensure_scenario_caseload


def open_source(rt: Runtime, scenario: str | None = None, live: bool = False, to_today: bool = False):
    """The scenario named (or the settings' default scenario), on its recorded clock or moved to
    today (`to_today`), or the live feeds."""
    chosen = None if live else scenario or rt.settings.feeds.scenario
    if not chosen:
        fetch = rt.settings.feeds.fetch
        return LiveSource(rt.settings.feeds, Fetcher(rt.http, fetch.connect_timeout_s, fetch.read_timeout_s,
                                                     fetch.max_attempts, fetch.backoff_s),
                          last_fetched=lambda feed: last_fetched(rt, feed))
    source = load_scenario(chosen, rt.settings.config_dir, rt.config.region_codes)
    if to_today:
        source = source.to_today(utcnow())
    ensure_scenario_caseload(rt, source)
    return source
