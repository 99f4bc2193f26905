"""Warning levels, their order and their names."""

from __future__ import annotations

COLOUR_LEVELS = ("blue", "yellow", "orange", "red")
PRICE_LEVELS = ("start",)

LEVEL_RANK = {name: rank for rank, name in enumerate(COLOUR_LEVELS, start=1)} | {"start": 1}

LEVEL_NAMES = {
    "blue": {"zh": "蓝色", "en": "blue"},
    "yellow": {"zh": "黄色", "en": "yellow"},
    "orange": {"zh": "橙色", "en": "orange"},
    "red": {"zh": "红色", "en": "red"},
    "start": {"zh": "启动", "en": "started"},
}

HAZARD_NAMES = {
    "cold_wave": {"zh": "寒潮", "en": "cold wave"},
    "cold_wave_grade": {"zh": "寒潮等级", "en": "cold-wave grade"},
    "frost": {"zh": "霜冻", "en": "frost"},
    "persistent_cold": {"zh": "持续低温", "en": "persistent cold"},
    "shelter": {"zh": "夜间庇寒", "en": "night shelter"},
    "official": {"zh": "官方预警", "en": "official warning"},
    "price_linkage": {"zh": "物价联动", "en": "price linkage"},
}


def rank(level: str) -> int:
    return LEVEL_RANK[level]
