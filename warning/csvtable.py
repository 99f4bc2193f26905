"""Reading untrusted CSV files into typed rows, every problem named by file, row and column."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from triggers.regioncodes import is_region_code
from triggers.validation import InvalidConfig

MAX_PROBLEMS = 50
BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], object]
    required: bool = True
    label_zh: str = ""  # a Chinese header taken as this column (files people fill in Excel)


def region_code(text: str) -> str:
    if not is_region_code(text):
        raise ValueError("must be a six-digit region code or a nine-digit township code")
    return text


MAX_COUNT = 2**31 - 1  # what an INTEGER column holds on every database


def count(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) > MAX_COUNT:
        raise ValueError(f"must be a whole number from 0 to {MAX_COUNT:,}")
    return int(text)


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def non_negative(text: str) -> float:
    value = number(text)
    if value < 0:
        raise ValueError("must be >= 0")
    return value


def month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ValueError("must be a month YYYY-MM")
    return text


def release_date(text: str) -> datetime:
    """A publication date YYYY-MM-DD: the start of that day in Beijing time, as UTC."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None
    return datetime.combine(day, time(), BEIJING).astimezone(timezone.utc)


def text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def decode(content: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel on a Chinese system saves as CSV."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as error:
        raise InvalidConfig([f"{source}: neither UTF-8 nor GB18030 text ({error.reason} at byte {error.start})"]) from None


def read_table(content: str | bytes, source: str, columns: list[Column]) -> list[dict]:
    """All rows, typed; or InvalidConfig listing every bad row (nothing is half-read)."""
    rows, problems = read_rows(content, source, columns)
    refuse_if(problems, source)
    return [row for _, row in rows]


def refuse_if(problems: list[str], source: str) -> None:
    if problems:
        extra = len(problems) - MAX_PROBLEMS
        raise InvalidConfig(problems[:MAX_PROBLEMS] + ([f"{source}: … and {extra} more"] if extra > 0 else []))


def read_rows(content: str | bytes, source: str, columns: list[Column]) -> tuple[list[tuple[int, dict]], list[str]]:
    """The rows that could be read, typed, with their line numbers, and every problem (by row and
    column) of those that could not. Headers are the column names or their Chinese labels."""
    if isinstance(content, bytes):
        content = decode(content, source)
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    by_label = {c.label_zh: c.name for c in columns if c.label_zh}
    reader.fieldnames = [by_label.get(h.strip(), h.strip()) for h in (reader.fieldnames or [])]
    missing = [c.name + (f" ({c.label_zh})" if c.label_zh else "") for c in columns
               if c.required and c.name not in reader.fieldnames]
    if missing:
        return [], [f"{source}: header: missing column(s) {', '.join(missing)}"]
    rows, problems = [], []
    for line, raw in enumerate(reader, start=2):
        row, row_problems = parse_row(raw, columns, source, line)
        if not row_problems:
            rows.append((line, row))
        problems += row_problems
    if not rows and not problems:
        problems.append(f"{source}: no data rows")
    return rows, problems


def parse_row(raw: dict, columns: list[Column], source: str, line: int) -> tuple[dict, list[str]]:
    if None in raw:
        return {}, [f"{source}, row {line}: more fields than the header has columns"]
    row, problems = {}, []
    for column in columns:
        value = (raw.get(column.name) or "").strip()
        if not value and not column.required:
            row[column.name] = None
            continue
        try:
            row[column.name] = column.parse(value)
        except ValueError as error:
            problems.append(f"{source}, row {line}, column {column.name}: {error} (got {value!r})")
    return row, problems
