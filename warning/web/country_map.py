"""The country at a glance: every county at its seat, drawn on the server as SVG (no tiles, no CDN,
nothing fetched), coloured by its highest open level; counties the newest cycle had no forecast for
are drawn as not assessed, never as clear."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from triggers.levels import COLOUR_LEVELS
from warning.models import CycleRun, FeedRun
from warning.regions import has_coordinates

WIDTH = 720
MARGIN = 8
DRAW_ORDER = ("unassessed", "clear", *COLOUR_LEVELS)  # the most urgent on top


def assessed_codes(session: Session) -> set[str]:
    """The regions the newest good cycle had a forecast for: those its forecast pulls asked about."""
    newest = session.scalar(select(CycleRun.id).where(CycleRun.status == "ok")
                            .order_by(CycleRun.started_at.desc()).limit(1))
    if newest is None:
        return set()
    codes: set[str] = set()
    for request in session.scalars(select(FeedRun.request).where(
            FeedRun.cycle_id == newest, FeedRun.feed == "forecast", FeedRun.status == "ok")):
        request = request or {}  # open-meteo asks for a batch of regions, QWeather for one
        codes.update(request.get("regions", []))
        if request.get("region"):
            codes.add(request["region"])
    return codes


def state_of(code: str, levels: dict[str, dict], assessed: set[str]) -> str:
    """A county's colour: its highest open level, else clear if assessed, else not assessed."""
    level = levels.get(code, {}).get("level")
    return level or ("clear" if code in assessed else "unassessed")


def country_map(every_region: list[dict], shown: list[dict], states: dict[str, str]) -> dict:
    """The SVG's size and a dot per shown county with coordinates, in draw order. The frame comes
    from every region's seat, so it does not move with what the visitor may see."""
    placed = [r for r in every_region if has_coordinates(r)]
    if not placed:
        return {"width": WIDTH, "height": 0, "dots": []}
    west, east = min(r["longitude"] for r in placed), max(r["longitude"] for r in placed)
    south, north = min(r["latitude"] for r in placed), max(r["latitude"] for r in placed)
    squeeze = math.cos(math.radians((north + south) / 2))  # an equirectangular map at the middle latitude
    scale = (WIDTH - 2 * MARGIN) / max((east - west) * squeeze, 1e-6)
    height = round((north - south) * scale + 2 * MARGIN)
    dots = [{"code": r["code"], "name": r["name"], "province": r["province_name"], "state": states[r["code"]],
             "x": round(MARGIN + (r["longitude"] - west) * squeeze * scale, 1),
             "y": round(MARGIN + (north - r["latitude"]) * scale, 1)}
            for r in shown if has_coordinates(r)]
    dots.sort(key=lambda dot: DRAW_ORDER.index(dot["state"]))
    return {"width": WIDTH, "height": height, "dots": dots}
