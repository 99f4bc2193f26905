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
    "price_linkage": {"zh": "物价联动", "en": "price linkage"},
}


def rank(level: str) -> int:
    return LEVEL_RANK[level]
