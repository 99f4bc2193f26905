"""Caseload and cold shelters per county: CSV import (all rows or none) and export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from triggers.playbook import CASELOAD_COUNTS
from triggers.validation import InvalidConfig
from warning.accounts import audit
from warning.csvtable import Column, count, non_negative, read_table, region_code, text
from warning.models import Caseload, Shelter, utcnow

STANDARDS = ("dibao_standard_urban", "dibao_standard_rural", "tekun_standard_urban", "tekun_standard_rural")
CASELOAD_COLUMNS = ([Column("region_code", region_code)] + [Column(c, count) for c in CASELOAD_COUNTS]
                    + [Column(c, non_negative) for c in STANDARDS])
SHELTER_COLUMNS = [Column("region_code", region_code), Column("name", text), Column("address", text),
                   Column("capacity", count)]


def check_regions(rows: list[dict], source: str, known_codes: set[str], unique: bool, in_scope=None) -> None:
    problems, seen = [], set()
    for line, row in enumerate(rows, start=2):
        code = row["region_code"]
        if code not in known_codes:
            problems.append(f"{source}, row {line}, column region_code: unknown region code {code}")
        elif in_scope is not None and not in_scope(code):
            problems.append(f"{source}, row {line}, column region_code: {code} is outside your area")
        if unique and code in seen:
            problems.append(f"{source}, row {line}, column region_code: {code} appears more than once")
        seen.add(code)
    if problems:
        raise InvalidConfig(problems)


def import_caseload(session: Session, content: bytes | str, source: str, known_codes: set[str],
                    in_scope=None) -> int:
    """Replace the caseload of every county in the file; nothing changes if any row is bad.

    `in_scope(code)`: whether the importing user may change that county (None: anyone may)."""
    rows = read_table(content, source, CASELOAD_COLUMNS)
    check_regions(rows, source, known_codes, unique=True, in_scope=in_scope)
    now = utcnow()
    session.execute(delete(Caseload).where(Caseload.region_code.in_([r["region_code"] for r in rows])))
    session.add_all(Caseload(**row, source=source[-500:], updated_at=now) for row in rows)
    return len(rows)


def import_shelters(session: Session, content: bytes | str, source: str, known_codes: set[str],
                    in_scope=None) -> int:
    """Replace the shelter list of every county named in the file; all rows or none."""
    rows = read_table(content, source, SHELTER_COLUMNS)
    check_regions(rows, source, known_codes, unique=False, in_scope=in_scope)
    session.execute(delete(Shelter).where(Shelter.region_code.in_({r["region_code"] for r in rows})))
    session.add_all(Shelter(**row) for row in rows)
    return len(rows)


def export_caseload(session: Session, visible=None) -> str:
    """The stored caseload as CSV, the same columns import takes (`visible(code)`: rows to include)."""
    names = [c.name for c in CASELOAD_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for record in session.scalars(select(Caseload).order_by(Caseload.region_code)):
        if visible is None or visible(record.region_code):
            writer.writerow({n: getattr(record, n) for n in names})
    return out.getvalue()


def caseload_records(session: Session) -> dict[str, dict]:
    names = [c.name for c in CASELOAD_COLUMNS]
    return {r.region_code: {n: getattr(r, n) for n in names} for r in session.scalars(select(Caseload))}


def shelters_by_region(session: Session) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    for s in session.scalars(select(Shelter).order_by(Shelter.region_code, Shelter.name)):
        result.setdefault(s.region_code, []).append(
            {"name": s.name, "address": s.address, "capacity": s.capacity})
    return result


def import_upload(session: Session, kind: str, content: bytes, filename: str, known_codes: set[str],
                  in_scope, actor: str) -> int:
    """A caseload or shelters CSV sent by a person (API or page): imported whole or not at all, audited."""
    importer = import_shelters if kind == "shelters" else import_caseload
    count = importer(session, content, filename, known_codes, in_scope=in_scope)
    audit(session, actor, f"{kind}.import", filename, None, {"rows": count})
    return count
