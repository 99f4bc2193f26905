"""Offline scenarios: recorded feeds plus the scenario's own "now" (see docs/scenarios.md)."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import yaml
from pydantic import AwareDatetime, Field, ValidationError, model_validator

from triggers.grid import DEFAULT_ZONE
from triggers.validation import InvalidConfig, StrictModel, describe
from warning.feeds import Pulled
from warning.feeds.formats import parsed
from warning.feeds.live import batch_key


class ForecastBatch(StrictModel):
    file: str
    regions: list[str] = Field(min_length=1)


class ForecastSection(StrictModel):
    format: str = Field(pattern=r"^open-meteo$")
    batches: list[ForecastBatch] = Field(min_length=1)


class EnsembleSection(StrictModel):
    format: str = Field(pattern=r"^open-meteo-ensemble$")
    batches: list[ForecastBatch] = Field(min_length=1)


class Snapshot(StrictModel):
    """An earlier cycle's forecasts: replayed for verification, not acted on."""
    now: AwareDatetime
    forecast: ForecastSection
    ensemble: EnsembleSection | None = None


class WarningFile(StrictModel):
    file: str
    format: str = Field(pattern=r"^(cap|qweather-alerts)$")
    region: str | None = None  # needed by qweather-alerts, which answers for one point

    @model_validator(mode="after")
    def region_for_point_formats(self):
        if self.format == "qweather-alerts" and not self.region:
            raise ValueError("qweather-alerts files need the region they were fetched for")
        return self


class Manifest(StrictModel):
    name: str
    description: str = ""
    now: AwareDatetime
    forecast: ForecastSection
    ensemble: EnsembleSection | None = None
    history: list[Snapshot] = []  # earlier cycles' forecasts, oldest first: what verification scores
    warnings: list[WarningFile] = []
    cpi: str | None = None
    cpi_format: str = Field(default="csv", pattern=r"^(csv|json|nbs)$")
    caseload: str | None = None
    shelters: str | None = None
    outcomes: str | None = None  # CSV: region_code, task_type, measure, value, hours_after (the clock)

    @model_validator(mode="after")
    def history_before_now(self):
        late = [s.now.isoformat() for s in self.history if s.now >= self.now]
        if late:
            raise ValueError(f"history snapshots must come before now ({self.now.isoformat()}): {', '.join(late)}")
        return self

    def batches(self) -> list[tuple[str, ForecastBatch]]:
        """Every forecast and ensemble batch, this cycle's and the history's, with its section's name."""
        sections = [("forecast", self.forecast), ("ensemble", self.ensemble)] + [
            (f"history.{i}.{name}", section) for i, snap in enumerate(self.history)
            for name, section in (("forecast", snap.forecast), ("ensemble", snap.ensemble))]
        return [(name, batch) for name, section in sections if section for batch in section.batches]


class Scenario:
    """A recorded scenario, replayed on its own clock or moved `shift_days` later (every time in it)."""

    def __init__(self, directory: Path, manifest: Manifest, shift_days: int = 0):
        self.directory, self.manifest, self.shift_days = directory, manifest, shift_days

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def now(self) -> datetime:
        return self.manifest.now.astimezone(timezone.utc) + timedelta(days=self.shift_days)

    def to_today(self, today: datetime) -> "Scenario":
        """The same scenario on today's calendar: its "now" on today's date, at its recorded time of day."""
        recorded = self.manifest.now.astimezone(timezone.utc)
        return Scenario(self.directory, self.manifest, (today.astimezone(timezone.utc).date() - recorded.date()).days)

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def history(self) -> list[Scenario]:
        """The earlier cycles' forecasts, each as a scenario of its own on its clock (moved as this one is)."""
        return [Scenario(self.directory, self.manifest.model_copy(update={
            "now": snap.now, "forecast": snap.forecast, "ensemble": snap.ensemble, "history": [], "warnings": [],
            "cpi": None, "caseload": None, "shelters": None, "outcomes": None}), self.shift_days)
            for snap in self.manifest.history]

    def pull(self, regions: pd.DataFrame | None = None) -> list[Pulled]:
        """Every recorded payload, parsed exactly as the live one would be."""
        m = self.manifest
        pulls = [self.read("open-meteo", b.file, {"regions": b.regions}, batch_key(b.regions))
                 for b in m.forecast.batches]
        if m.ensemble:
            zones = zones_by_code(regions)
            pulls += [self.read("open-meteo-ensemble", b.file,
                                {"regions": b.regions, "zones": [zones.get(c, DEFAULT_ZONE) for c in b.regions]},
                                batch_key(b.regions, "open-meteo-ensemble")) for b in m.ensemble.batches]
        pulls += [self.read(w.format, w.file, {"region": w.region} if w.region else {}, f"{w.format}:{w.file}")
                  for w in m.warnings]
        if m.cpi:
            pulls.append(self.read(f"cpi-{m.cpi_format}", m.cpi, {}, "cpi"))
        return pulls

    def read(self, fmt: str, relative: str, request: dict, key: str) -> Pulled:
        """A recorded payload (`.gz`: gzip-compressed, read as the bytes the provider sent)."""
        shift = {"shift_days": self.shift_days} if self.shift_days else {}
        payload = self.path(relative).read_bytes()
        return parsed(fmt, f"file:{relative}", gzip.decompress(payload) if relative.endswith(".gz") else payload,
                      request | shift, key)


def zones_by_code(regions: pd.DataFrame | None) -> dict[str, str]:
    if regions is None or regions.empty:
        return {}
    return dict(zip(regions["code"], regions["timezone"].fillna(DEFAULT_ZONE)))


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
    files = [b.file for _, b in manifest.batches()] + [w.file for w in manifest.warnings] + [
        f for f in (manifest.cpi, manifest.caseload, manifest.shelters) if f]
    for relative in files:
        target = (directory / relative).resolve()
        if directory not in target.parents or not target.is_file():
            problems.append(f"{source}: file {relative!r} is missing or outside the scenario folder")
    for section, batch in manifest.batches():
        problems += [f"{source}: {section} batch {batch.file}: unknown region code {code}"
                     for code in batch.regions if code not in known_codes]
    if problems:
        raise InvalidConfig(problems)
    return Scenario(directory, manifest)
