"""CPI tables (CSV): area_code, month, cpi_yoy, food_cpi_yoy, released_on -> the CPI frame."""

from __future__ import annotations

import pandas as pd

from triggers.validation import InvalidConfig
from warning.csvtable import Column, month, number, read_table, region_code, release_date
from warning.feeds import FeedRejected


def yoy_percent(text: str) -> float:
    value = number(text)
    if not -50 <= value <= 100:
        raise ValueError("year-on-year change must be a percent between -50 and 100")
    return value


CPI_COLUMNS = [Column("area_code", region_code), Column("month", month),
               Column("cpi_yoy", yoy_percent), Column("food_cpi_yoy", yoy_percent),
               Column("released_on", release_date)]


def parse_cpi_csv(payload: bytes, source: str) -> pd.DataFrame:
    try:
        rows = read_table(payload, source, CPI_COLUMNS)
    except InvalidConfig as error:
        raise FeedRejected("; ".join(error.problems)) from None
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
