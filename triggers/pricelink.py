"""The price-linkage mechanism: start per area and month, and the temporary price subsidy.

Start when the month's CPI year-on-year rise reaches its threshold or the food CPI's does; the
month no start condition holds, it stops. A county uses its own index if published, else its
prefecture's, its province's, then the nation's, and the result says which it used.
Subsidy per person = the monthly 低保 standard x the triggering rise (the higher if both, and
`amount_by` says which index that was), rounded to the local unit, never below the local floor.
Each decision is judged by the rules in force in its index's month (a period may change them).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from triggers.regioncodes import NATION
from triggers.rules import Rules


SCOPES = (("county", "code"), ("prefecture", "prefecture_code"), ("province", "province_code"))
DECISION_COLUMNS = ["region_code", "month", "index_area", "index_scope", "cpi_yoy", "food_cpi_yoy",
                    "released_on", "triggered_by", "amount_by", "rise_pct", "started", "round_to_yuan",
                    "floor_yuan"]
LIMITS = ["cpi_start_pct", "food_cpi_start_pct", "round_to_yuan", "floor_yuan"]


def latest_released(cpi: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Per area, the newest month whose figures were published by `now`."""
    released = cpi[cpi["released_on"] <= pd.Timestamp(now)]
    return released.sort_values(["area_code", "month"]).groupby("area_code").tail(1).set_index("area_code")


def limits_in_month(rules: Rules, regions: pd.DataFrame, codes: pd.Series, months: pd.Series) -> pd.DataFrame:
    """Each row's price-linkage limits as in force in its month, in the order of `codes`."""
    limits = pd.DataFrame(index=codes.index, columns=LIMITS, dtype=float)
    for month in months.unique():
        rows = (months == month).to_numpy()
        table = rules.in_month(month).thresholds(regions[regions["code"].isin(codes[rows])])
        limits.loc[rows] = table.loc[codes[rows], [f"price_linkage.{k}" for k in LIMITS]].to_numpy(dtype=float)
    return limits


def assess_price_linkage(cpi: pd.DataFrame, regions: pd.DataFrame, rules: Rules,
                         now: datetime) -> pd.DataFrame:
    """One row per region that has any index: which month, which area's index, started or not, and
    the rounding and floor its amount will take."""
    latest = latest_released(cpi, now)
    frame = regions[["code", "prefecture_code", "province_code"]].copy()
    frame["index_area"] = pd.NA
    frame["index_scope"] = pd.NA
    for scope, column in (*SCOPES, ("nation", None)):
        codes = frame[column] if column else pd.Series(NATION, index=frame.index)
        found = frame["index_area"].isna() & codes.isin(latest.index)
        frame.loc[found, "index_area"] = codes[found]
        frame.loc[found, "index_scope"] = scope
    frame = frame.dropna(subset=["index_area"])
    figures = latest.loc[frame["index_area"], ["month", "cpi_yoy", "food_cpi_yoy", "released_on"]]
    frame = frame.assign(**{c: figures[c].to_numpy() for c in figures.columns})
    limits = limits_in_month(rules, regions, frame["code"], frame["month"])
    frame = frame.assign(round_to_yuan=limits["round_to_yuan"], floor_yuan=limits["floor_yuan"])
    by_cpi = frame["cpi_yoy"].to_numpy() >= limits["cpi_start_pct"].to_numpy()
    by_food = frame["food_cpi_yoy"].to_numpy() >= limits["food_cpi_start_pct"].to_numpy()
    frame["triggered_by"] = np.select([by_cpi & by_food, by_cpi, by_food], ["both", "cpi", "food"], "")
    cpi_sets = by_cpi & ~(by_food & (frame["food_cpi_yoy"].to_numpy() > frame["cpi_yoy"].to_numpy()))
    frame["amount_by"] = np.select([cpi_sets, by_food], ["cpi", "food"], "")
    frame["rise_pct"] = np.select([cpi_sets, by_food], [frame["cpi_yoy"], frame["food_cpi_yoy"]], 0.0)
    frame["started"] = by_cpi | by_food
    return frame.rename(columns={"code": "region_code"})[DECISION_COLUMNS].reset_index(drop=True)


def round_money(amount: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Round half up to the local unit (1, 0.1 or 0.01 yuan); the epsilon absorbs float noise."""
    return np.floor(amount / unit + 0.5 + 1e-9) * unit


def subsidy_amounts(started: pd.DataFrame, caseload: pd.DataFrame) -> pd.DataFrame:
    """Per started region: per-person amounts (urban, rural), recipients and total, in yuan.

    Urban 低保 and 特困 recipients, orphans and 事实无人抚养 children are paid on the urban 低保
    standard, rural ones on the rural standard. Regions without a caseload get no amounts.
    """
    frame = started.merge(caseload, on="region_code", how="inner")
    if frame.empty:
        return frame.assign(per_person_urban=[], per_person_rural=[], recipients_urban=[],
                            recipients_rural=[], total_yuan=[])
    unit = frame["round_to_yuan"].to_numpy(dtype=float)
    floor = frame["floor_yuan"].to_numpy(dtype=float)
    rise = frame["rise_pct"].to_numpy(dtype=float) / 100
    urban = np.maximum(round_money(frame["dibao_standard_urban"].to_numpy(float) * rise, unit), floor)
    rural = np.maximum(round_money(frame["dibao_standard_rural"].to_numpy(float) * rise, unit), floor)
    urban_people = frame[["dibao_urban", "tekun_urban", "orphans", "unsupported_children"]].sum(axis=1)
    rural_people = frame[["dibao_rural", "tekun_rural"]].sum(axis=1)
    total = np.round(urban * urban_people.to_numpy() + rural * rural_people.to_numpy(), 2)
    return frame[DECISION_COLUMNS].assign(
        per_person_urban=np.round(urban, 2), per_person_rural=np.round(rural, 2),
        recipients_urban=urban_people.to_numpy(), recipients_rural=rural_people.to_numpy(),
        total_yuan=total)
