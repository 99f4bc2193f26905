"""A county's forecast as an inline SVG chart (no script, works offline): daily minimum and maximum
from the newest good cycle's stored payloads, with the cold-wave minimum thresholds as lines."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.levels import COLOUR_LEVELS, LEVEL_NAMES
from triggers.rules import Rules
from warning.config import AppConfig
from warning.cycle import Inputs, weather_grids
from warning.feeds.replay import replay_source
from warning.models import CycleRun

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 240, 44, 86, 12, 28
_daily_of_cycle: dict[str, pd.DataFrame] = {}  # the newest cycle's daily table, parsed once per process


def daily_forecast(session: Session, config: AppConfig) -> tuple[CycleRun | None, pd.DataFrame]:
    cycle = session.scalars(select(CycleRun).where(CycleRun.status == "ok")
                            .order_by(CycleRun.as_of.desc(), CycleRun.started_at.desc()).limit(1)).first()
    if cycle is None:
        return None, pd.DataFrame()
    daily = _daily_of_cycle.get(cycle.id)
    if daily is None:
        source = replay_source(session, cycle)
        inputs = Inputs(source.pull() if source else [], {})
        daily = weather_grids(inputs, config.tz_by_code)[1].to_frame()
        _daily_of_cycle.clear()
        _daily_of_cycle[cycle.id] = daily
    return cycle, daily


def region_chart(session: Session, config: AppConfig, rules: Rules, code: str, lang: str) -> dict | None:
    """Everything the template draws, in SVG user units; None when no forecast is stored for the county."""
    cycle, daily = daily_forecast(session, config)
    days = daily[daily["region_code"] == code].sort_values("day") if not daily.empty else daily
    if cycle is None or days.empty:
        return None
    region = config.regions_by_code[code]
    thresholds = rules.for_chain(rules.override_chain(region)).cold_wave
    lines = threshold_lines(thresholds, lang)
    values = [*days["tmin"], *days["tmax"], *(line["value"] for line in lines)]
    low, high = min(values) - 2, max(values) + 2
    x_step = (WIDTH - LEFT - RIGHT) / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + i * x_step, 1)

    def y(value: float) -> float:
        return round(TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM), 1)

    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "bottom": HEIGHT - BOTTOM,
        "as_of": cycle.as_of,
        "tmin": " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(days["tmin"])),
        "tmax": " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(days["tmax"])),
        "points": [{"x": x(i), "y": y(v), "label": f"{day:%m-%d} {v:.1f}°C"}
                   for i, (day, v) in enumerate(zip(days["day"], days["tmin"]))],
        "days": [{"x": x(i), "label": f"{day:%m-%d}"} for i, day in enumerate(days["day"])],
        "ticks": [{"y": y(v), "label": f"{v:g}°"} for v in range(int(low) // 5 * 5 + 5, int(high) + 1, 5)],
        "lines": [line | {"y": y(line["value"])} for line in lines],
        "rows": [{"day": f"{day:%Y-%m-%d}", "tmin": round(tmin, 1), "tmax": round(tmax, 1),
                  "wind": round(wind, 1)}
                 for day, tmin, tmax, wind in zip(days["day"], days["tmin"], days["tmax"], days["wind_max_ms"])],
    }


def threshold_lines(cold_wave, lang: str) -> list[dict]:
    """One line per distinct cold-wave minimum, labelled with the levels that use it (blue/yellow <= 4)."""
    by_value: dict[float, list[str]] = {}
    for level in COLOUR_LEVELS:
        by_value.setdefault(getattr(cold_wave, level).tmin_max_c, []).append(level)
    return [{"value": value, "level": levels[0],
             "label": f"{'/'.join(LEVEL_NAMES[level][lang] for level in levels)} ≤{value:g}°C"}
            for value, levels in by_value.items()]

