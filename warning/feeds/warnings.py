"""Official warnings, normalised: one row per warning message and region."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

WARNING_COLUMNS = ["region_code", "warning_id", "source", "event_code", "event_name", "severity", "colour",
                   "msg_type", "supersedes", "sent", "onset", "expires", "headline"]

# QWeather / CMA event type codes of the cold-weather warnings coldwarn listens to.
COLD_EVENTS = {"1005": "寒潮", "1008": "低温冻害", "1016": "霜冻", "1021": "道路结冰", "1030": "低温雨雪冰冻",
               "1039": "强降温", "1050": "严寒", "1056": "低温", "1059": "持续低温"}
CODE_BY_NAME = {name: code for code, name in COLD_EVENTS.items()}
COLOURS = {"blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red",
           "蓝色": "blue", "黄色": "yellow", "橙色": "orange", "红色": "red"}
MSG_TYPES = {"alert": "alert", "update": "update", "cancel": "cancel"}


def empty_warnings() -> pd.DataFrame:
    return pd.DataFrame(columns=WARNING_COLUMNS)


def active_warnings(warnings: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Warnings in force at `now`: not expired, not cancelled, not superseded by a later message."""
    if warnings.empty:
        return warnings
    replaced = {old for ids in warnings["supersedes"] for old in ids}
    live = warnings[~warnings["warning_id"].isin(replaced) & (warnings["msg_type"] != "cancel")]
    expires = pd.to_datetime(live["expires"], utc=True)
    return live[expires.isna() | (expires > pd.Timestamp(now))].reset_index(drop=True)
