"""A scenario's own caseload and shelters, loaded the first time the scenario runs, and the outcome
figures its counties report, once its first cycle has made their tasks."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

from sqlalchemy import func, select

from warning.caseload import import_caseload, import_shelters
from warning.feeds.scenario import Scenario
from warning.leader import SEED_LOCK, cluster_lock
from warning.models import Caseload, OutcomeReport, Task
from warning.outcomes import record_figures
from warning.runtime import Runtime

log = logging.getLogger(__name__)


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


def ensure_scenario_outcomes(rt: Runtime, scenario: Scenario) -> None:
    """Report the scenario's figures (each at its hours after the scenario's clock) into a database
    that has none yet, on the first task of each county and type; a row without its task is skipped."""
    if not scenario.manifest.outcomes:
        return
    path = scenario.path(scenario.manifest.outcomes)
    with cluster_lock(rt.engine, SEED_LOCK, wait=True), rt.sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(OutcomeReport)):
            return
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            task = session.scalars(select(Task).where(Task.region_code == row["region_code"], Task.type == row["task_type"])
                                   .order_by(Task.id).limit(1)).first()
            if task is None:
                log.warning("%s: no %s task in %s; its figure is skipped", path.name, row["task_type"], row["region_code"])
                continue
            record_figures(session, rt.config, task, {row["measure"]: int(row["value"])}, "demo", "demo",
                           scenario.now + timedelta(hours=float(row["hours_after"])))
