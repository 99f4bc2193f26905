"""Regions as people look at them: which are assessed, and each one's highest open level."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.levels import LEVEL_RANK
from warning.models import Alert


def has_coordinates(region: dict) -> bool:
    """Regions without coordinates get no forecast and so are not assessed (never guessed)."""
    return bool(pd.notna(region.get("latitude")))


def region_levels(session: Session) -> dict[str, dict]:
    """Per region with open alerts: its highest level and how many are open."""
    levels: dict[str, dict] = {}
    for code, level in session.execute(select(Alert.region_code, Alert.level).where(Alert.status == "open")):
        seen = levels.setdefault(code, {"level": level, "open_alerts": 0})
        seen["open_alerts"] += 1
        if LEVEL_RANK[level] > LEVEL_RANK[seen["level"]]:
            seen["level"] = level
    return levels
