"""Region codes (GB/T 2260 and the statistical division codes): six digits for a county, nine for a
township within it (its county's code and three more). Areas above a region are a prefecture
(xxxx00) and a province (xx0000)."""

from __future__ import annotations

import re

REGION_CODE = re.compile(r"\d{6}(\d{3})?")
COUNTY_DIGITS = 6
NATION = "000000"  # the code that stands for the whole country (a national CPI, a national report)


def is_region_code(text: str) -> bool:
    return REGION_CODE.fullmatch(text) is not None


def county_of(code: str) -> str:
    """A township's county; a county's code is its own."""
    return code[:COUNTY_DIGITS]


def ancestry(code: str) -> tuple[str, ...]:
    """The areas a region lies in, outermost first, ending with the region itself (a province is its own
    first ancestor, so each appears once)."""
    return tuple(dict.fromkeys((code[:2] + "0000", code[:4] + "00", county_of(code), code)))


def area_prefix(code: str) -> str:
    """What the regions of an area share: a province xx0000 -> xx, a prefecture xxxx00 -> xxxx, a county
    or township itself (a township's serial may end in 00, so only six-digit codes name wider areas)."""
    if len(code) != COUNTY_DIGITS:
        return code
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
