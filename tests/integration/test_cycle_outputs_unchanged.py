"""What a cycle puts out — alerts, tasks, festival and subsidy decisions, the messages to subscribers —
is the same as recorded before the performance rework (issue 23), for the national cold wave and for
the demo scenario.

The record (cycle_outputs.json beside this file) holds, per kind of output, its count and a digest of
its rows, whole and per province, so a difference names where it is. Rows are compared without
what a fresh database or the wall clock decides (row ids, message ids, cycle ids, the time a message
was enqueued). Both databases are compared with the one record: PostgreSQL takes a cycle's rows
by COPY, SQLite by executemany. To record again after a change of behaviour that is meant:
COLDWARN_RECORD_OUTPUTS=1 .venv/bin/python -m pytest tests/integration/test_cycle_outputs_unchanged.py
and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import write_subscription
from tests.emulators import open_meteo_handler
from warning.cycle import run_cycle
from warning.feeds.http import Fetcher
from warning.feeds.live import LiveSource
from warning.models import Alert, Festival, OutboxMessage, Subsidy, Task
from warning.sources import open_source

RECORD = Path(__file__).with_name("cycle_outputs.json")
# A national cold wave arriving the day after a fixed clock inside 春节's notice (2026-02-17), so the
# festival decisions are part of what is compared.
NATIONAL_AS_OF = datetime(2026, 1, 27, tzinfo=timezone.utc)
# Decided by the database or the wall clock, not by the rules.
UNSTABLE = {"id", "alert_id", "task_id", "subsidy_id", "festival_id"}


def canonical(value):
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items()) if k not in UNSTABLE}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return value.isoformat() if isinstance(value, date) else value


def rows_of(session, model) -> list[dict]:
    columns = [c.name for c in model.__table__.columns]
    return [dict(zip(columns, row)) for row in session.execute(select(*model.__table__.columns))]


def outputs(rt) -> dict[str, list[tuple[str, str]]]:
    """(province, canonical JSON line) per output row, by kind."""
    with rt.sessions() as session:
        found = {"alerts": rows_of(session, Alert), "tasks": rows_of(session, Task),
                 "festivals": rows_of(session, Festival), "subsidies": rows_of(session, Subsidy),
                 "messages": [{"event_type": m["event_type"], "region_code": m["data"]["region"]["code"],
                               "data": m["data"]} for m in rows_of(session, OutboxMessage)]}
    return {kind: sorted((row["region_code"][:2], json.dumps(canonical(row), ensure_ascii=False, sort_keys=True))
                         for row in rows) for kind, rows in found.items()}


def digest(lines) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def summary(found: dict[str, list[tuple[str, str]]]) -> dict:
    out = {}
    for kind, rows in found.items():
        by_province = defaultdict(list)
        for province, line in rows:
            by_province[province].append(line)
        out[kind] = {"count": len(rows), "digest": digest(line for _, line in rows),
                     "by_province": {p: digest(lines) for p, lines in sorted(by_province.items())}}
    return out


def compare(name: str, found: dict, tmp_path: Path) -> None:
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    now = summary(found)
    if os.environ.get("COLDWARN_RECORD_OUTPUTS"):
        RECORD.write_text(json.dumps(record | {name: now}, indent=1, sort_keys=True) + "\n")
        pytest.skip("recorded")
    (tmp_path / f"{name}.jsonl").write_text("\n".join(line for rows in found.values() for _, line in rows))
    expected = record[name]
    for kind in expected:
        differing = sorted(p for p in expected[kind]["by_province"].keys() | now[kind]["by_province"].keys()
                           if expected[kind]["by_province"].get(p) != now[kind]["by_province"].get(p))
        assert (now[kind]["count"], differing) == (expected[kind]["count"], []), (
            f"{name}: {kind} differ (expected {expected[kind]['count']} rows) in provinces {differing}; "
            f"the rows are in {tmp_path / f'{name}.jsonl'}")
        assert now[kind]["digest"] == expected[kind]["digest"]


def test_the_national_cold_wave_puts_out_what_it_did(make_runtime, config_dir, httpserver, tmp_path):
    httpserver.expect_request("/v1/forecast").respond_with_handler(open_meteo_handler(cold=True, now=NATIONAL_AS_OF))
    write_subscription(config_dir, httpserver.url_for("/hook"))
    rt = make_runtime(COLDWARN_SCENARIO="", COLDWARN_OPEN_METEO_URL=httpserver.url_for("/v1/forecast"))
    fetch = rt.settings.feeds.fetch
    source = LiveSource(rt.settings.feeds, Fetcher(rt.http, fetch.connect_timeout_s, fetch.read_timeout_s,
                                                   fetch.max_attempts, fetch.backoff_s), clock=lambda: NATIONAL_AS_OF)
    summary_ = run_cycle(rt, source, deliver=False)
    assert summary_["alerts"]["issued"] > 2000 and summary_["festivals"]["decided"] > 2000
    compare("national_cold_wave", outputs(rt), tmp_path)


def test_the_demo_puts_out_what_it_did(make_runtime, config_dir, httpserver, tmp_path):
    write_subscription(config_dir, httpserver.url_for("/hook"))
    rt = make_runtime()
    summary_ = run_cycle(rt, open_source(rt), deliver=False)
    assert summary_["alerts"]["issued"] > 0 and summary_["messages_enqueued"] > 0
    compare("demo", outputs(rt), tmp_path)
