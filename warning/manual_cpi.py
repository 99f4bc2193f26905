"""CPI figures entered by an admin: validated like a feed row, stored, and written to the audit log."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.validation import InvalidConfig
from warning.config import AppConfig
from warning.csvtable import parse_row
from warning.events import iso
from warning.feeds.cpi import CPI_COLUMNS
from warning.accounts import audit
from warning.models import ManualCpi, utcnow


def set_manual_cpi(session: Session, config: AppConfig, fields: dict, actor: str, reason: str) -> ManualCpi:
    row, problems = parse_row({k: str(v) for k, v in fields.items()}, CPI_COLUMNS, "manual CPI", 1)
    problems = [p.replace("manual CPI, row 1, column ", "") for p in problems]
    if not problems and row["area_code"] not in config.area_codes:
        problems.append(f"area_code: unknown area {row['area_code']}")
    if not actor.strip() or not reason.strip():
        problems.append("who and why are both required")
    if problems:
        raise InvalidConfig(problems)
    entry = session.scalars(select(ManualCpi).where(ManualCpi.area_code == row["area_code"],
                                                    ManualCpi.month == row["month"])).first()
    before = snapshot(entry) if entry else None
    if entry is None:
        entry = ManualCpi(area_code=row["area_code"], month=row["month"])
        session.add(entry)
    entry.cpi_yoy, entry.food_cpi_yoy, entry.released_on = row["cpi_yoy"], row["food_cpi_yoy"], row["released_on"]
    entry.entered_by, entry.reason, entry.entered_at = actor.strip(), reason.strip(), utcnow()
    audit(session, entry.entered_by, "cpi.set", f"cpi/{entry.area_code}/{entry.month}", before, snapshot(entry),
          reason=entry.reason)
    return entry


def as_dict(entry: ManualCpi) -> dict:
    return {"area_code": entry.area_code, "month": entry.month, **snapshot(entry), "entered_by": entry.entered_by,
            "reason": entry.reason, "entered_at": iso(entry.entered_at)}


def snapshot(entry: ManualCpi) -> dict:
    return {"cpi_yoy": entry.cpi_yoy, "food_cpi_yoy": entry.food_cpi_yoy, "released_on": iso(entry.released_on)}


def manual_cpi_csv(session: Session) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area_code", "month", "cpi_yoy", "food_cpi_yoy", "released_on", "entered_by", "reason"])
    for m in session.scalars(select(ManualCpi).order_by(ManualCpi.area_code, ManualCpi.month)):
        writer.writerow([m.area_code, m.month, m.cpi_yoy, m.food_cpi_yoy, iso(m.released_on), m.entered_by, m.reason])
    return out.getvalue()
