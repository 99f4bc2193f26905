"""What the demo scenario was built to contain (scripts/make_demo_scenario.py), read from its inputs."""

from __future__ import annotations

import csv

from warning.settings import SHIPPED_CONFIG_DIR

DEMO = SHIPPED_CONFIG_DIR / "scenarios" / "demo"
# The generator's longitude bands, west to east.
BANDS = [(124.5, "orange"), (126.0, "yellow"), (128.5, "blue"), (999.0, None)]


def jilin_regions() -> list[dict]:
    with (SHIPPED_CONFIG_DIR / "regions" / "regions.csv").open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["province_code"] == "220000"]


def designed_levels() -> dict[str, str]:
    """County code -> level the scenario was designed to reach (counties with coordinates only)."""
    levels = {}
    for region in jilin_regions():
        if region["longitude"]:
            level = next(lvl for bound, lvl in BANDS if float(region["longitude"]) < bound)
            if level:
                levels[region["code"]] = level
    return levels


def caseload() -> dict[str, dict]:
    with (DEMO / "caseload_synthetic.csv").open(encoding="utf-8") as f:
        return {r["region_code"]: {k: float(v) for k, v in r.items() if k != "region_code"}
                for r in csv.DictReader(f)}


def shelters() -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    with (DEMO / "shelters_synthetic.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            result.setdefault(row["region_code"], []).append(row)
    return result
