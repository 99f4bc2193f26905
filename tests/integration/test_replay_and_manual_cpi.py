"""Replaying stored cycles, pruning payloads, and hand-entered CPI figures with their audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from triggers.validation import InvalidConfig
from warning.cycle import run_cycle
from warning.feeds.replay import cycles_until
from warning.maintenance import prune_snapshots
from warning.manual_cpi import set_manual_cpi
from warning.models import Alert, AuditEntry, CycleRun, FeedRun, Subsidy, utcnow
from warning.sources import open_source


def alerts(rt):
    with rt.sessions() as session:
        return sorted(session.execute(select(Alert.region_code, Alert.level, Alert.onset)).all())


def test_replaying_a_cycle_into_another_database_reproduces_its_alerts(make_runtime, tmp_path):
    rt = make_runtime()
    first = run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        sources = cycles_until(session, first["cycle_id"])
    replica = make_runtime(COLDWARN_DATABASE_URL=f"sqlite:///{tmp_path / 'replica.db'}")
    replayed = run_cycle(replica, sources[0], deliver=False)
    assert alerts(replica) == alerts(rt)
    assert replayed["as_of"] == first["as_of"] and replayed["tasks_created"] == first["tasks_created"]


def test_pruned_payloads_cannot_be_replayed_and_say_so(make_runtime):
    rt = make_runtime()
    cycle = run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions.begin() as session:
        session.execute(update(FeedRun).values(fetched_at=utcnow() - timedelta(days=31)))
    assert prune_snapshots(rt) == 4  # two forecast batches, the ensemble, the CPI
    with rt.sessions() as session:
        assert session.scalar(select(CycleRun.status)) == "ok"  # the record of the cycle stays
        with pytest.raises(InvalidConfig, match="its payloads were pruned"):
            cycles_until(session, cycle["cycle_id"])


def test_manual_cpi_is_audited_and_wins_over_the_feed(make_runtime):
    rt = make_runtime()
    with rt.sessions.begin() as session:  # Changchun's survey office: food +6.1 %, above the threshold
        set_manual_cpi(session, rt.config, {"area_code": "220100", "month": "2025-12", "cpi_yoy": "2.1",
                                            "food_cpi_yoy": "6.1", "released_on": "2026-01-17"},
                       "admin-li", "corrected figure from the survey office bulletin")
    run_cycle(rt, open_source(rt, "demo"), deliver=False)
    with rt.sessions() as session:
        nanguan = session.scalars(select(Subsidy).where(Subsidy.region_code == "220102")).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "cpi.set")).one()
    assert (nanguan.started, nanguan.index_area, nanguan.food_cpi_yoy) == (True, "220100", 6.1)
    assert (entry.actor, entry.action, entry.target, entry.before) == ("admin-li", "cpi.set", "cpi/220100/2025-12", None)
    assert entry.after["food_cpi_yoy"] == 6.1 and "survey office" in entry.reason


@pytest.mark.parametrize("fields, problem", [
    ({"area_code": "229999"}, "area_code: unknown area 229999"),
    ({"month": "2025-13"}, "month: must be a month YYYY-MM"),
    ({"food_cpi_yoy": "lots"}, "food_cpi_yoy: must be a number"),
])
def test_manual_cpi_is_validated(make_runtime, fields, problem):
    rt = make_runtime()
    good = {"area_code": "220100", "month": "2025-12", "cpi_yoy": "2.1", "food_cpi_yoy": "6.1",
            "released_on": "2026-01-17"}
    with pytest.raises(InvalidConfig) as caught:
        with rt.sessions.begin() as session:
            set_manual_cpi(session, rt.config, good | fields, "admin", "why")
    assert any(problem in p for p in caught.value.problems)
    with rt.sessions() as session:
        assert session.scalars(select(AuditEntry)).all() == []
