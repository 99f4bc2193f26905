"""Engine and sessions. SQLite by default (one process), PostgreSQL by URL (several)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    from warning.logs import instance_id
    # the instance's name shows in pg_stat_activity (and beside the advisory lock it holds)
    return create_engine(url, pool_pre_ping=True, connect_args={"application_name": f"coldwarn {instance_id()}"[:63]})


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web) do not block the cycle's writes
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations on this engine's database."""
    from warning.leader import MIGRATION_LOCK, cluster_lock
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with cluster_lock(engine, MIGRATION_LOCK, wait=True), engine.begin() as connection:
        config.attributes["connection"] = connection  # instances starting together migrate one after another
        command.upgrade(config, revision)
