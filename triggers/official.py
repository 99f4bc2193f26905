"""Official cold-weather warnings in force, as alerts at the warning's own colour."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from triggers.levels import LEVEL_NAMES, rank
from triggers.model import Assessment, Evidence
from triggers.regioncodes import COUNTY_DIGITS, county_of
from triggers.rules import Rules

HAZARD = "official"
DEFAULT_SPAN = timedelta(hours=24)  # a warning without an expiry is taken to last a day


def assess_official(warnings: pd.DataFrame, thresholds: pd.DataFrame, rules: Rules,
                    now: datetime) -> list[Assessment]:
    """`warnings`: the active warnings table (warning.feeds.warnings columns). One assessment per
    region: the highest colour among the listened-to events, from the earliest onset."""
    if warnings.empty:
        return []
    warnings = to_townships(warnings, thresholds.index)
    known = warnings[warnings["region_code"].isin(thresholds.index) & warnings["colour"].isin(LEVEL_NAMES)]
    listened = [code in thresholds.at[region, f"{HAZARD}.events"] and thresholds.at[region, f"{HAZARD}.enabled"]
                for region, code in zip(known["region_code"], known["event_code"])]
    known = known[listened]
    out = []
    for region, group in known.groupby("region_code"):
        top = group.loc[group["colour"].map(rank).idxmax()]
        onset = min(pd.Timestamp(o if o is not None else s) for o, s in zip(group["onset"], group["sent"]))
        ends = max((pd.Timestamp(e) for e in group["expires"] if e is not None), default=pd.Timestamp(now) + DEFAULT_SPAN)
        lead = max(0.0, (onset - pd.Timestamp(now)).total_seconds() / 3600)
        headlines = "; ".join(dict.fromkeys(group["headline"]))
        out.append(Assessment(
            region_code=region, hazard=HAZARD, level=top["colour"], stage=rules.stages.stage_for(lead) or "prepare",
            onset=onset.to_pydatetime(), ends=ends.to_pydatetime(), lead_time_h=round(lead, 1),
            evidence=Evidence(zh=f"官方预警:{headlines}", en=f"official warning: {headlines}",
                              values={"warning_ids": list(group["warning_id"]), "events": list(group["event_name"])}),
            rule_version=rules.version))
    return out


def to_townships(warnings: pd.DataFrame, regions: pd.Index) -> pd.DataFrame:
    """Warnings are issued for counties; where the regions are townships, a county's warning is each of its
    townships' too."""
    townships = regions[regions.str.len() > COUNTY_DIGITS]
    if townships.empty:
        return warnings
    counties = pd.DataFrame({"county": townships.map(county_of), "township": townships})
    spread = warnings.merge(counties, left_on="region_code", right_on="county")
    spread["region_code"] = spread.pop("township")
    return pd.concat([warnings, spread.drop(columns="county")], ignore_index=True)
