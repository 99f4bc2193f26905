"""What a running coldwarn holds: validated config, database, HTTP session."""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import gc
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from notifiers.http import HttpSession
from triggers.rules import parse_rules
from triggers.validation import InvalidConfig
from warning.config import AppConfig, load_config, read_yaml
from warning.db import make_engine, session_factory
from warning.feeds import Pulled
from warning.models import RuleVersion
from warning.settings import Settings, load_settings


@dataclass
class Runtime:
    config: AppConfig
    engine: Engine
    sessions: sessionmaker
    http: HttpSession
    # Feed run id -> its payload as read, for the payloads the last cycle reused (a feed on its own
    # schedule): read once, not again every cycle (the national ensemble's took 9 s a cycle).
    reused_payloads: dict[int, Pulled] = dataclasses.field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.config.settings

    @classmethod
    def start(cls, settings: Settings | None = None) -> "Runtime":
        """Load and validate everything; raises InvalidConfig naming each problem."""
        config = load_config(settings or load_settings())
        engine = make_engine(config.settings.database_url)
        http = HttpSession()
        http.headers["user-agent"] = "coldwarn/0.1"
        return cls(config, engine, session_factory(engine), http)

    def refresh_rules(self) -> None:
        """Bring the rules in force up to date. A rules.yaml whose version the history has never seen
        is a fresh hand edit and wins; otherwise the newest recorded version does, which may have
        been saved through the API on another instance. A broken file is logged and changes nothing."""
        path = self.settings.config_dir / "rules.yaml"
        try:
            content = read_yaml(path)
            on_disk = (self.config.rules if content == self.config.rules.content
                       else parse_rules(content, self.config.area_codes, str(path)))
        except InvalidConfig as error:
            logging.getLogger(__name__).error("rules.yaml not taken up, the rules in force stay: %s", error)
            on_disk = None
        with self.sessions() as session:
            latest = session.scalars(select(RuleVersion).order_by(RuleVersion.id.desc()).limit(1)).first()
            disk_is_new = on_disk is not None and session.scalar(
                select(RuleVersion.id).where(RuleVersion.version == on_disk.version).limit(1)) is None
        if disk_is_new:
            chosen = on_disk
        elif latest is not None and latest.version != self.config.rules.version:
            chosen = parse_rules(latest.content, self.config.area_codes, f"rule version {latest.version}")
        else:
            return
        self.config = dataclasses.replace(self.config, rules=chosen)

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MAPPED_FROM_BYTES = 128 * 1024  # glibc's own starting threshold, kept from then on


def settle_heap() -> None:
    """Once a long-running process has started: what is loaded by then (modules, the regions and rules
    tables) lives as long as the process, so the garbage collector stops walking it again in every
    collection (a tenth or more of a national cycle's CPU went on that).

    And blocks of 128 KiB or more stay mapped on their own, so each goes back to the system when freed:
    glibc otherwise raises that threshold to the largest block freed so far (a payload, a table), and
    the grid pieces of a pull then sit in heaps that freeing does not shrink — a national grid of
    townships was held twice while the pieces were gathered (1.09 GB where 0.75 GB)."""
    gc.collect()
    gc.freeze()
    libc = glibc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, MAPPED_FROM_BYTES)


def give_back_free_memory() -> None:
    """After a cycle: hand the heap's free pages back to the system (glibc keeps what a national cycle
    freed, some 300 MB, for the process's lifetime otherwise). Elsewhere than glibc, nothing."""
    libc = glibc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None
