"""Official cold-weather warnings in force, as alerts at the warning's own colour."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from triggers.levels import LEVEL_NAMES, rank
from triggers.model import Assessment, Evidence
from triggers.regioncodes import area_prefix
from triggers.rules import Rules

HAZARD = "official"
DEFAULT_SPAN = timedelta(hours=24)  # a warning without an expiry is taken to last a day


def assess_official(warnings: pd.DataFrame, thresholds: pd.DataFrame, rules: Rules,
                    now: datetime) -> list[Assessment]:
    """`warnings`: the active warnings table (warning.feeds.warnings columns). One assessment per
    region: the highest colour among the listened-to events, from the earliest onset."""
    if warnings.empty:
        return []
    warnings = to_regions(warnings, thresholds.index)
    known = warnings[warnings["colour"].isin(LEVEL_NAMES)]
    listened = np.array([code in thresholds.at[region, f"{HAZARD}.events"] and thresholds.at[region, f"{HAZARD}.enabled"]
                         for region, code in zip(known["region_code"], known["event_code"])], dtype=bool)
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
                              values={"warning_ids": list(dict.fromkeys(group["warning_id"])),
                                      "events": list(dict.fromkeys(group["event_name"]))}),
            rule_version=rules.version))
    return out


def to_regions(warnings: pd.DataFrame, regions: pd.Index) -> pd.DataFrame:
    """Each warning on the regions it covers: its own, or every region inside the area it names (a
    province's or a prefecture's counties, a county's townships). Codes covering no region drop out."""
    prefixes = warnings["region_code"].map(area_prefix)
    parts = [warnings[warnings["region_code"].isin(regions)]]
    wider = warnings[~warnings["region_code"].isin(regions)].assign(prefix=prefixes)
    for length in sorted(set(wider["prefix"].str.len())):
        members = pd.DataFrame({"prefix": regions.str[:length], "member": regions})
        spread = wider[wider["prefix"].str.len() == length].merge(members, on="prefix")
        parts.append(spread.drop(columns=["prefix", "region_code"]).rename(columns={"member": "region_code"}))
    return pd.concat(parts, ignore_index=True)[warnings.columns]
