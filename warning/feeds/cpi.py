"""CPI figures -> the CPI frame (area_code, month, cpi_yoy, food_cpi_yoy in percent, released_on).

Three formats: a CSV table, the same as a JSON list of objects, and the statistics bureau's index
form (cpi_index, food_cpi_index with the same month last year = 100; 102.3 means +2.3 %).
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from triggers.validation import InvalidConfig
from warning.csvtable import Column, month, number, read_table, region_code, release_date
from warning.feeds import FeedRejected, json_payload


def yoy_percent(text: str) -> float:
    value = number(text)
    if not -50 <= value <= 100:
        raise ValueError("year-on-year change must be a percent between -50 and 100")
    return value


CPI_COLUMNS = [Column("area_code", region_code), Column("month", month),
               Column("cpi_yoy", yoy_percent), Column("food_cpi_yoy", yoy_percent),
               Column("released_on", release_date)]


def index_points(text: str) -> float:
    """An index with last year = 100, as the percent change."""
    value = number(text)
    if not 50 <= value <= 200:
        raise ValueError("an index with last year = 100 must lie between 50 and 200")
    return round(value - 100, 4)


NBS_COLUMNS = [Column("area_code", region_code), Column("month", month), Column("cpi_index", index_points),
               Column("food_cpi_index", index_points), Column("released_on", release_date)]


def parse_cpi_csv(payload: bytes, source: str) -> pd.DataFrame:
    return cpi_frame(table(payload, source, CPI_COLUMNS), source)


def parse_nbs_index(payload: bytes, source: str) -> pd.DataFrame:
    rows = table(payload, source, NBS_COLUMNS)
    return cpi_frame([{"area_code": r["area_code"], "month": r["month"], "cpi_yoy": r["cpi_index"],
                       "food_cpi_yoy": r["food_cpi_index"], "released_on": r["released_on"]} for r in rows], source)


def parse_cpi_json(payload: bytes, source: str) -> pd.DataFrame:
    """A JSON list of objects with the CSV's fields (numbers may be numbers or strings)."""
    items = json_payload(payload, source)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FeedRejected(f"{source}: expected a JSON list of objects")
    names = [c.name for c in CPI_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if i.get(k) is None else str(i.get(k)) for k in names} for i in items)
    return parse_cpi_csv(out.getvalue().encode(), source)


def table(payload: bytes, source: str, columns: list[Column]) -> list[dict]:
    try:
        return read_table(payload, source, columns)
    except InvalidConfig as error:
        raise FeedRejected("; ".join(error.problems)) from None


def cpi_frame(rows: list[dict], source: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    duplicated = frame[frame.duplicated(["area_code", "month"], keep=False)]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        raise FeedRejected(f"{source}: area {first.area_code} month {first.month} appears twice")
    late = frame[frame["released_on"].dt.strftime("%Y-%m") <= frame["month"]]
    if not late.empty:
        first = late.iloc[0]
        raise FeedRejected(f"{source}: area {first.area_code} month {first.month}: released_on must be "
                           "after the month it reports")
    frame["released_on"] = pd.to_datetime(frame["released_on"], utc=True)
    return frame
