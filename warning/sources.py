"""Choosing where a cycle's feeds come from: a scenario, or the live providers."""

from __future__ import annotations

from warning.feeds.http import Fetcher
from warning.feeds.live import LiveSource
from warning.feeds.scenario import load_scenario
from warning.runtime import Runtime
from warning.scenario_data import ensure_scenario_caseload


def open_source(rt: Runtime, scenario: str | None = None, live: bool = False):
    """The scenario named (or the settings' default scenario), or the live feeds."""
    chosen = None if live else scenario or rt.settings.feeds.scenario
    if not chosen:
        fetch = rt.settings.feeds.fetch
        return LiveSource(rt.settings.feeds, Fetcher(rt.http, fetch.connect_timeout_s, fetch.read_timeout_s,
                                                     fetch.max_attempts, fetch.backoff_s))
    source = load_scenario(chosen, rt.settings.config_dir, rt.config.region_codes)
    ensure_scenario_caseload(rt, source)
    return source
