"""Turning validation failures into messages that name the file, the key and the reason."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Config models refuse unknown keys: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Problem(NamedTuple):
    """One problem as data, for a form to show at its field in the reader's language: the dotted key
    (`overrides.220000.cold_wave.blue.drop_c`), the kind (pydantic's error type or one of the rules'
    own, such as `levels_order`) and its context (the bound, the levels concerned, the value given)."""

    key: str
    kind: str
    context: dict


class InvalidConfig(ValueError):
    """One or more problems, each 'file: key: reason'; `details` holds them as data where known."""

    def __init__(self, problems: list[str], details: list[Problem] | None = None):
        self.problems = problems
        self.details = details or []
        super().__init__("\n".join(problems))


def describe(error: ValidationError, source: str, prefix: str = "") -> list[str]:
    problems = []
    for item in error.errors():
        key = dotted(prefix, item["loc"])
        got = f" (got {item['input']!r})" if item["type"] not in ("missing",) and not isinstance(
            item.get("input"), (dict, list)) else ""
        problems.append(f"{source}: {key or '(top level)'}: {item['msg']}{got}")
    return problems


def details_of(error: ValidationError, prefix: str = "") -> list[Problem]:
    """The same problems as `describe`, as data."""
    return [Problem(dotted(prefix, item["loc"]), item["type"], {**item.get("ctx", {}), "input": item.get("input")})
            for item in error.errors()]


def dotted(prefix: str, loc: tuple) -> str:
    return ".".join(str(part) for part in (*filter(None, [prefix]), *loc))
