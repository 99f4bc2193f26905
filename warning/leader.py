"""One cycle at a time across every instance, and each schedule slot's cycle run once.

On PostgreSQL the cycle runs under a session-level advisory lock taken with a non-blocking try on
its own connection: PostgreSQL frees it when that connection closes, so a process that dies
(even by SIGKILL) lets another instance take over at its next tick. Every instance ticks; the
one that gets the lock runs the cycle if none has started in the current slot yet. On SQLite the
processes of one machine (a `serve` and a `run-once` beside it) share a lock file next to the
database instead, which the system frees when its holder dies.

The lock's connection can also die while its process lives (a network cut, pg_terminate_backend):
another instance then takes the lock and runs a cycle while the first is still in its own. So a
cycle is fenced: inside the transaction that writes its results it checks that the lock is still
held by its own connection (`Leadership.confirm`), and rolls everything back if not.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, exc, func, select, text, update

from warning.models import CycleRun
from warning.tallies import add_to

CYCLE_LOCK, MIGRATION_LOCK, PRUNE_LOCK, SEED_LOCK = 7_283_410_001, 7_283_410_002, 7_283_410_003, 7_283_410_004
CLAIM_LOCK = 7_283_410_005
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
log = logging.getLogger(__name__)
HELD_BY = text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
               " AND classid = :high AND objid = :low AND pid = :pid)")


class LostLeadership(RuntimeError):
    """The lock this work ran under was lost (its connection died): what it did is not kept."""


@dataclass(frozen=True)
class Leadership:
    """An advisory lock as taken: whether it is held and, on PostgreSQL, by which backend."""
    key: int
    held: bool
    pid: int | None = None  # None: SQLite, where one process is the only one

    def __bool__(self) -> bool:
        return self.held

    def confirm(self, session) -> None:
        """Raise LostLeadership unless the lock is still held by the connection that took it; called
        inside a transaction just before it commits, so a cycle that lost its lock keeps nothing."""
        if self.pid is None:
            return
        params = {"high": self.key >> 32, "low": self.key & 0xFFFFFFFF, "pid": self.pid}
        if not session.scalar(HELD_BY, params):
            raise LostLeadership(f"the cycle lock's connection (backend {self.pid}) was lost and another "
                                 "instance may have taken over: this cycle's writes are rolled back")


@contextmanager
def cluster_lock(engine: Engine, key: int, wait: bool = False) -> Iterator[Leadership]:
    """Hold advisory lock `key` for the block if it can be had (or wait for it); yields whether it is held."""
    if engine.dialect.name != "postgresql":
        with file_lock(engine, key, wait) as held:
            yield Leadership(key, held)
        return
    with engine.connect() as connection:
        if wait:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            held = True
        else:
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        pid = connection.scalar(text("SELECT pg_backend_pid()"))
        connection.commit()  # the lock belongs to the connection, not to this transaction
        try:
            yield Leadership(key, held, pid)
        finally:
            if held:
                unlock(connection, key)


@contextmanager
def file_lock(engine: Engine, key: int, wait: bool) -> Iterator[bool]:
    """SQLite's stand-in for an advisory lock: flock on `<database>.<key>.lock` (an in-memory database
    has one process, so it is always free)."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with open(Path(database).with_name(f"{Path(database).name}.{key}.lock"), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unlock(connection, key: int) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        connection.commit()
    except exc.DBAPIError:  # the connection is gone, and the lock went with it
        log.warning("advisory lock %s: its connection was lost before it was let go", key)


def hold_until_commit(session, key: int) -> None:
    """Take advisory lock `key` for the rest of the session's transaction, waiting for it if need be."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def slot_start(now: datetime, minutes: int) -> datetime:
    """The start of the schedule slot `now` falls in: slots of `minutes` counted from midnight UTC."""
    step = timedelta(minutes=minutes)
    return EPOCH + ((now - EPOCH) // step) * step


def abandon_cut_off_cycles(session, now: datetime) -> int:
    """With the lock held nobody else is running a cycle: any still marked running died with its process."""
    result = session.execute(update(CycleRun).where(CycleRun.status == "running").values(
        status="abandoned", finished_at=now, error="its process stopped before it finished; nothing it did was kept"))
    add_to(session, "coldwarn_cycles", {"status": "abandoned"}, result.rowcount)
    return result.rowcount


def cycle_due(session, now: datetime, minutes: int) -> bool:
    """Due when no cycle has started in this slot, other than one cut off (a failed one waits a slot)."""
    started = session.scalar(select(func.count()).select_from(CycleRun).where(
        CycleRun.started_at >= slot_start(now, minutes), CycleRun.status != "abandoned"))
    return started == 0
