"""Logging: plain text for people at a terminal, or one JSON object a line for log collectors.

Every record carries the instance and, inside a cycle, the cycle id, so one cycle's lines can be
followed across stages (and told apart from another instance's).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from contextvars import ContextVar
from datetime import datetime, timezone

cycle_id_var: ContextVar[str | None] = ContextVar("cycle_id", default=None)


def instance_id() -> str:
    """This process, as other instances and the database see it (host and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.cycle_id = cycle_id_var.get()
        record.instance = instance_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat().replace("+00:00", "Z"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
                 "instance": getattr(record, "instance", None), "cycle_id": getattr(record, "cycle_id", None)}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(fmt: str = "text", level: int = logging.INFO, stream=None) -> logging.Handler:
    """Send the root logger's records to `stream` (stderr) as text or JSON; returns the handler."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(cycle_id)s] %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "coldwarn", False)]:
        root.removeHandler(old)
    handler.coldwarn = True
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler says "Running job" and "executed successfully" at every tick (the deliver job runs
    # every few seconds): most of a day's log. warning.scheduler logs each run that did something.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
