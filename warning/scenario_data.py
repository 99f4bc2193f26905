"""A scenario's own caseload and shelters, loaded the first time the scenario runs."""

from __future__ import annotations

from sqlalchemy import func, select

from warning.caseload import import_caseload, import_shelters
from warning.feeds.scenario import Scenario
from warning.leader import SEED_LOCK, cluster_lock
from warning.models import Caseload
from warning.runtime import Runtime


def ensure_scenario_caseload(rt: Runtime, scenario: Scenario) -> None:
    """Import the scenario's caseload and shelters only into a database that has no caseload yet,
    so data an office imported is never overwritten by demo data."""
    manifest = scenario.manifest
    if not manifest.caseload:
        return
    # instances starting together take turns, so only the first imports
    with cluster_lock(rt.engine, SEED_LOCK, wait=True), rt.sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(Caseload)):
            return
        path = scenario.path(manifest.caseload)
        import_caseload(session, path.read_bytes(), str(path), rt.config.region_codes)
        if manifest.shelters:
            path = scenario.path(manifest.shelters)
            import_shelters(session, path.read_bytes(), str(path), rt.config.region_codes)
