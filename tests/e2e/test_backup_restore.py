"""Backup and restore as docs/deployment.md tells operators to do it: pg_dump, pg_restore into an
empty database, `coldwarn db upgrade`; nothing lost, undelivered messages still delivered, and the
next cycle on the restored database duplicates nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, settings_env, write_subscription
from tests.e2e.test_cli import run
from warning.db import make_engine

COUNTED = ("alerts", "tasks", "subsidies", "outbox", "delivery_attempts", "audit_log", "rule_versions", "feed_runs")


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}
        found["pending"] = connection.execute(sa.text(
            "SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar()
    engine.dispose()
    return found


@pytest.fixture
def two_databases(postgres):
    """An empty source and an empty target database, dropped afterwards."""
    names = [f"cw_backup_{uuid.uuid4().hex[:8]}", f"cw_restore_{uuid.uuid4().hex[:8]}"]
    admin = sa.create_engine(postgres.replace("/test", "/postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    yield [POSTGRES_URL.replace("/test", f"/{name}") for name in names]
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def libpq(url: str) -> str:
    """pg_dump and pg_restore take libpq URLs: postgresql://, without SQLAlchemy's driver name."""
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_postgres_backup_restores_everything_and_the_next_cycle_duplicates_nothing(
        two_databases, config_dir, tmp_path, httpserver):
    source, target = two_databases
    httpserver.expect_request("/hook").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"))
    at_source = settings_env(config_dir, source, tmp_path)
    cycle = run(["run-once", "--scenario", "demo", "--as-recorded", "--no-deliver", "--json"], at_source)
    assert cycle.returncode == 0, cycle.stderr
    before = counts(source)
    assert before["pending"] > 0 and before["alerts"] > 0

    dump = tmp_path / "coldwarn.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", libpq(source)], check=True, timeout=120)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={libpq(target)}", str(dump)], check=True, timeout=120)
    at_target = settings_env(config_dir, target, tmp_path)
    assert run(["db", "upgrade"], at_target).returncode == 0
    assert counts(target) == before

    delivered = run(["deliver"], at_target)
    assert delivered.returncode == 0, delivered.stderr
    assert counts(target)["pending"] == 0
    assert len(httpserver.log) == before["pending"]  # every message still owed went out
    again = json.loads(run(["run-once", "--scenario", "demo", "--as-recorded", "--no-deliver", "--json"], at_target).stdout)
    assert again["alerts"]["issued"] == 0 and again["tasks_created"] == 0


def test_an_sqlite_backup_taken_while_in_use_restores_everything(config_dir, tmp_path):
    live = tmp_path / "coldwarn.db"
    env = settings_env(config_dir, f"sqlite:///{live}", tmp_path)
    assert run(["run-once", "--scenario", "demo", "--as-recorded", "--no-deliver", "--json"], env).returncode == 0
    copy = tmp_path / "backup.db"
    with sqlite3.connect(live) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # what `sqlite3 coldwarn.db ".backup …"` does: a consistent copy of a live file
    assert counts(f"sqlite:///{copy}") == counts(f"sqlite:///{live}")
    restored = settings_env(config_dir, f"sqlite:///{copy}", tmp_path)
    again = json.loads(run(["run-once", "--scenario", "demo", "--as-recorded", "--no-deliver", "--json"], restored).stdout)
    assert again["alerts"]["issued"] == 0
