"""Offline scenarios: recorded feeds plus the scenario's own "now" (see docs/scenarios.md)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import yaml
from pydantic import AwareDatetime, Field, ValidationError

from triggers.validation import InvalidConfig, StrictModel, describe
from warning.feeds import FeedRejected, Pulled
from warning.feeds.cpi import parse_cpi_csv
from warning.feeds.openmeteo import parse_forecast


class ForecastBatch(StrictModel):
    file: str
    regions: list[str] = Field(min_length=1)


class ForecastSection(StrictModel):
    format: str = Field(pattern=r"^open-meteo$")
    batches: list[ForecastBatch] = Field(min_length=1)


class Manifest(StrictModel):
    name: str
    description: str = ""
    now: AwareDatetime
    forecast: ForecastSection
    cpi: str | None = None
    caseload: str | None = None
    shelters: str | None = None


class Scenario:
    def __init__(self, directory: Path, manifest: Manifest):
        self.directory, self.manifest = directory, manifest

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def now(self) -> datetime:
        return self.manifest.now.astimezone(timezone.utc)

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def pull_forecasts(self) -> list[Pulled]:
        return [pull(self.path(b.file), "forecast", b.regions,
                     lambda payload, source, codes=b.regions: parse_forecast(payload, codes, source))
                for b in self.manifest.forecast.batches]

    def pull_cpi(self) -> list[Pulled]:
        if not self.manifest.cpi:
            return []
        return [pull(self.path(self.manifest.cpi), "cpi", [], parse_cpi_csv)]


def pull(path: Path, feed: str, regions: list[str], parse) -> Pulled:
    payload = path.read_bytes()
    pulled = Pulled(feed=feed, source=f"file:{path.name}", payload=payload,
                    request={"regions": regions} if regions else {})
    try:
        pulled.frame = parse(payload, pulled.source)
    except FeedRejected as error:
        pulled.error = str(error)
    return pulled


def resolve_scenario(name_or_path: str, config_dir: Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    named = config_dir / "scenarios" / name_or_path
    if named.is_dir():
        return named
    raise InvalidConfig([f"scenario {name_or_path!r}: no such directory (looked in {config_dir / 'scenarios'})"])


def load_scenario(name_or_path: str, config_dir: Path, known_codes: set[str]) -> Scenario:
    directory = resolve_scenario(name_or_path, config_dir).resolve()
    source = directory / "manifest.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        manifest = Manifest.model_validate(data)
    except FileNotFoundError:
        raise InvalidConfig([f"{source}: file not found"]) from None
    except yaml.YAMLError as error:
        raise InvalidConfig([f"{source}: not valid YAML: {error}"]) from None
    except ValidationError as error:
        raise InvalidConfig(describe(error, str(source))) from None
    problems = []
    files = [b.file for b in manifest.forecast.batches] + [
        f for f in (manifest.cpi, manifest.caseload, manifest.shelters) if f]
    for relative in files:
        target = (directory / relative).resolve()
        if directory not in target.parents or not target.is_file():
            problems.append(f"{source}: file {relative!r} is missing or outside the scenario folder")
    for index, batch in enumerate(manifest.forecast.batches):
        problems += [f"{source}: forecast.batches.{index}.regions: unknown region code {code}"
                     for code in batch.regions if code not in known_codes]
    if problems:
        raise InvalidConfig(problems)
    return Scenario(directory, manifest)
