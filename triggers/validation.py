"""Turning validation failures into messages that name the file, the key and the reason."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Config models refuse unknown keys: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InvalidConfig(ValueError):
    """One or more problems, each 'file: key: reason'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def describe(error: ValidationError, source: str, prefix: str = "") -> list[str]:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in (*filter(None, [prefix]), *item["loc"]))
        got = f" (got {item['input']!r})" if item["type"] not in ("missing",) and not isinstance(
            item.get("input"), (dict, list)) else ""
        problems.append(f"{source}: {key or '(top level)'}: {item['msg']}{got}")
    return problems
