"""Caseload and cold shelters per county: CSV import (all rows or none) and export."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from triggers.caseload import CASELOAD_COUNTS
from warning.accounts import audit
from warning.csvtable import Column, count, non_negative, read_rows, refuse_if, region_code, text
from warning.models import Caseload, Shelter, utcnow

STANDARDS = ("dibao_standard_urban", "dibao_standard_rural", "tekun_standard_urban", "tekun_standard_rural")
LABELS = {"region_code": "区划代码", "dibao_urban": "城市低保人数", "dibao_rural": "农村低保人数",
          "tekun_urban": "城市特困人数", "tekun_rural": "农村特困人数", "ill_disabled": "重病重残人数",
          "elderly_alone": "独居老人人数", "orphans": "孤儿人数", "unsupported_children": "事实无人抚养儿童人数",
          "rough_sleepers": "流浪乞讨人员人数", "dibao_standard_urban": "城市低保标准(元/月)",
          "dibao_standard_rural": "农村低保标准(元/月)", "tekun_standard_urban": "城市特困供养标准(元/月)",
          "tekun_standard_rural": "农村特困供养标准(元/月)", "name": "名称", "address": "地址",
          "capacity": "床位数", "shelters": "场所数"}
CASELOAD_COLUMNS = ([Column("region_code", region_code, label_zh=LABELS["region_code"])]
                    + [Column(c, count, label_zh=LABELS[c]) for c in CASELOAD_COUNTS]
                    + [Column(c, non_negative, label_zh=LABELS[c]) for c in STANDARDS])
SHELTER_COLUMNS = [Column("region_code", region_code, label_zh=LABELS["region_code"]),
                   Column("name", text, label_zh=LABELS["name"]), Column("address", text, label_zh=LABELS["address"]),
                   Column("capacity", count, label_zh=LABELS["capacity"])]
COLUMNS = {"caseload": CASELOAD_COLUMNS, "shelters": SHELTER_COLUMNS}
COUNTY_NAME = "县(区)名称"  # in the template for the reader; not read back


def checked_rows(content: bytes | str, source: str, kind: str, known_codes: set[str], in_scope=None) -> list[dict]:
    """Every row of an upload, typed and checked; or InvalidConfig with every problem of the file in
    one pass (values, unknown or foreign region codes, repeats), each by row and column."""
    rows, problems = read_rows(content, source, COLUMNS[kind])
    seen: set[str] = set()
    for line, row in rows:
        code = row["region_code"]
        if code not in known_codes:
            problems.append(f"{source}, row {line}, column region_code: unknown region code {code}")
        elif in_scope is not None and not in_scope(code):
            problems.append(f"{source}, row {line}, column region_code: {code} is outside your area")
        if kind == "caseload" and code in seen:
            problems.append(f"{source}, row {line}, column region_code: {code} appears more than once")
        seen.add(code)
    problems.sort(key=row_order)
    refuse_if(problems, source)
    return [row for _, row in rows]


def row_order(problem: str) -> int:
    """Problems in the order of the file's rows (the header's first)."""
    found = re.search(r", row (\d+)", problem)
    return int(found.group(1)) if found else 0


def import_caseload(session: Session, content: bytes | str, source: str, known_codes: set[str],
                    in_scope=None) -> int:
    """Replace the caseload of every county in the file; nothing changes if any row is bad.

    `in_scope(code)`: whether the importing user may change that county (None: anyone may)."""
    rows = checked_rows(content, source, "caseload", known_codes, in_scope)
    now = utcnow()
    session.execute(delete(Caseload).where(Caseload.region_code.in_([r["region_code"] for r in rows])))
    session.add_all(Caseload(**row, source=source[-500:], updated_at=now) for row in rows)
    return len(rows)


def import_shelters(session: Session, content: bytes | str, source: str, known_codes: set[str],
                    in_scope=None) -> int:
    """Replace the shelter list of every county named in the file; all rows or none."""
    rows = checked_rows(content, source, "shelters", known_codes, in_scope)
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


def upload_template(session: Session, kind: str, counties: list[dict]) -> str:
    """A CSV to fill in, with Chinese headers and a row per county given (its current figures, if
    any), UTF-8 with a BOM so Excel opens it right; it is imported as it is."""
    names = [c.name for c in COLUMNS[kind]]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([LABELS["region_code"], COUNTY_NAME] + [LABELS[n] for n in names[1:]])
    if kind == "caseload":
        stored = caseload_records(session)
        for county in counties:
            values = stored.get(county["code"], {})
            writer.writerow([county["code"], county["name"]] + [values.get(n, "") for n in names[1:]])
    else:
        shelters = shelters_by_region(session)
        for county in counties:
            for shelter in shelters.get(county["code"], [{}]):
                writer.writerow([county["code"], county["name"]] + [shelter.get(n, "") for n in names[1:]])
    return out.getvalue()


def upload_changes(session: Session, kind: str, rows: list[dict]) -> list[dict]:
    """What importing `rows` would change, per county: (field, before, after) for each field that
    changes (caseload), or the number of shelters and beds (shelters). Counties the file leaves as they are are left out."""
    changes = []
    if kind == "caseload":
        stored = caseload_records(session)
        for row in rows:
            before = stored.get(row["region_code"])
            fields = [(n, before[n] if before else None, row[n]) for n in row
                      if n != "region_code" and (before is None or before[n] != row[n])]
            if fields:
                changes.append({"code": row["region_code"], "new": before is None, "fields": fields})
        return changes
    stored = shelters_by_region(session)
    after: dict[str, list[dict]] = {}
    for row in rows:
        after.setdefault(row["region_code"], []).append(row)
    for code, listed in after.items():
        old = stored.get(code, [])
        fields = [("shelters", len(old), len(listed)),
                  ("capacity", sum(s["capacity"] for s in old), sum(s["capacity"] for s in listed))]
        if sorted((s["name"], s["address"], s["capacity"]) for s in old) != sorted(
                (s["name"], s["address"], s["capacity"]) for s in listed):
            changes.append({"code": code, "new": not old, "fields": [f for f in fields if f[1] != f[2]] or fields})
    return changes
