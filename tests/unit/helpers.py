"""Small builders for pure-domain tests."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import yaml

from triggers.rules import deep_merge, parse_rules
from warning.feeds.warnings import WARNING_COLUMNS
from warning.settings import SHIPPED_CONFIG_DIR

UTC = timezone.utc
REGIONS = pd.DataFrame([
    {"code": "220102", "name": "南关区", "province_code": "220000", "prefecture_code": "220100",
     "timezone": "Asia/Shanghai"},
    {"code": "220202", "name": "昌邑区", "province_code": "220000", "prefecture_code": "220200",
     "timezone": "Asia/Shanghai"},
    {"code": "110101", "name": "东城区", "province_code": "110000", "prefecture_code": "110100",
     "timezone": "Asia/Shanghai"},
])


def shipped_rules_data() -> dict:
    return yaml.safe_load((SHIPPED_CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8"))


# the regions above and the areas the shipped rules override (Jiangsu's holiday subsidy, …)
KNOWN = (set(REGIONS["code"]) | set(REGIONS["province_code"]) | set(REGIONS["prefecture_code"])
         | set(shipped_rules_data()["overrides"]))


def rules(**changes):
    data = deep_merge(shipped_rules_data(), changes)
    data.setdefault("overrides", {})
    if "overrides" in changes:
        data["overrides"] = changes["overrides"]
    return parse_rules(data, KNOWN)


def daily(region: str, values: list[tuple[float, float]], first_day: str = "2026-01-17") -> pd.DataFrame:
    """Daily rows (tmin degC, strongest mean wind m/s) from `first_day` on."""
    days = pd.date_range(first_day, periods=len(values), freq="D")
    return pd.DataFrame({"region_code": region, "day": days, "tmin": [v[0] for v in values],
                         "tmax": [v[0] + 8 for v in values], "wind_max_ms": [v[1] for v in values]})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def warning_rows(*rows) -> pd.DataFrame:
    base = {"source": "qweather", "event_name": "寒潮", "severity": "moderate", "msg_type": "alert", "supersedes": [],
            "sent": at("2026-01-17T08:00:00"), "onset": None, "expires": at("2026-01-19T08:00:00"), "headline": "寒潮预警"}
    return pd.DataFrame([base | r for r in rows], columns=WARNING_COLUMNS)
