"""Settings: config/settings.toml, overridden by COLDWARN_* environment variables, validated."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator

from triggers.validation import InvalidConfig, StrictModel, describe

SHIPPED_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

# Environment variable -> its path in settings.toml.
ENV_OVERRIDES = {
    "COLDWARN_DATABASE_URL": ("database", "url"),
    "COLDWARN_SECRET_KEY": ("web", "secret_key"),
    "COLDWARN_ALLOW_PRIVATE_TARGETS": ("delivery", "allow_private_targets"),
    "COLDWARN_SCENARIO": ("feeds", "scenario"),
    "COLDWARN_LANGUAGE": ("web", "language"),
    "COLDWARN_CONSOLE_URL": ("delivery", "console_url"),
    "COLDWARN_PORT": ("server", "port"),
    "COLDWARN_SECURE_COOKIES": ("web", "secure_cookies"),
    "COLDWARN_QWEATHER_API_KEY": ("feeds", "qweather", "api_key"),
    "COLDWARN_QWEATHER_API_HOST": ("feeds", "qweather", "api_host"),
    "COLDWARN_OPEN_METEO_URL": ("feeds", "open_meteo", "url"),
    "COLDWARN_ENSEMBLE_URL": ("feeds", "ensemble", "url"),
    "COLDWARN_OBSERVED_URL": ("feeds", "observed", "url"),
    "COLDWARN_CPI_URL": ("feeds", "cpi", "url"),
    "COLDWARN_SMTP_HOST": ("delivery", "smtp", "host"),
    "COLDWARN_SMTP_PASSWORD": ("delivery", "smtp", "password"),
}


class DatabaseSettings(StrictModel):
    url: str = ""  # empty: SQLite file coldwarn.db in the instance folder


class ServerSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class OpenMeteoSettings(StrictModel):
    url: str = Field(default="https://api.open-meteo.com/v1/forecast", pattern=r"^https?://")
    model: str = Field(default="best_match", pattern=r"^[a-z0-9_,]+$")  # e.g. cma_grapes_global
    batch_size: int = Field(default=100, ge=1, le=1000)
    forecast_days: int = Field(default=10, ge=1, le=16)
    past_days: int = Field(default=4, ge=0, le=14)  # at least what the rules need is asked for (live.py)


class EnsembleSettings(StrictModel):
    """Open-Meteo's ensemble API, for rules whose `ensemble.use` is not `deterministic`."""
    enabled: bool = False
    url: str = Field(default="https://ensemble-api.open-meteo.com/v1/ensemble", pattern=r"^https?://")
    model: str = Field(default="ecmwf_ifs025", pattern=r"^[a-z0-9_]+$")  # one model: 51 members for ecmwf_ifs025
    batch_size: int = Field(default=50, ge=1, le=500)  # 50 locations x 51 members x 2 series ~ 7 MB of JSON
    forecast_days: int = Field(default=10, ge=1, le=35)
    every_h: float = Field(default=6, gt=0, le=24)  # a new ensemble run comes every 6 to 12 hours: between, reuse


class ObservedSettings(StrictModel):
    """Open-Meteo's historical weather API (ERA5 reanalysis, about 5 days behind): what happened, for
    verification. Off: what happened is read from later cycles' past days."""
    enabled: bool = False
    url: str = Field(default="https://archive-api.open-meteo.com/v1/archive", pattern=r"^https?://")
    batch_size: int = Field(default=100, ge=1, le=1000)
    days: int = Field(default=14, ge=2, le=92)  # the days before today asked for (the newest come as null)
    every_h: float = Field(default=24, gt=0, le=168)


class QWeatherSettings(StrictModel):
    api_host: str = ""  # your QWeather API host, e.g. https://xxxx.qweatherapi.com
    api_key: str = ""


class CpiFeedSettings(StrictModel):
    url: str = ""  # http(s) URL or file path; empty: no CPI feed (manual entries still count)
    format: Literal["csv", "json", "nbs"] = "csv"


class FreshnessSettings(StrictModel):
    forecast_max_age_h: float = Field(default=12, gt=0)
    ensemble_max_age_h: float = Field(default=24, gt=0)  # ensembles are run every 6 to 12 hours
    observed_max_age_h: float = Field(default=72, gt=0)  # pulled once a day
    warnings_max_age_h: float = Field(default=6, gt=0)
    cpi_max_age_days: float = Field(default=45, gt=0)


class FetchSettings(StrictModel):
    connect_timeout_s: float = Field(default=5, gt=0, le=60)
    read_timeout_s: float = Field(default=30, gt=0, le=300)
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_s: float = Field(default=1, ge=0, le=60)


class FeedSettings(StrictModel):
    scenario: str = ""  # a scenario name under config/scenarios/ or a path; empty: live feeds
    timezone: str = "Asia/Shanghai"
    forecast: Literal["open-meteo", "qweather"] = "open-meteo"
    warnings: Literal["", "qweather", "cap"] = ""
    cap_url: str = ""  # CAP 1.2 feed (one <alert> or an Atom/RSS feed of them), URL or path
    snapshot_retention_days: int = Field(default=30, ge=1, le=3650)
    open_meteo: OpenMeteoSettings = OpenMeteoSettings()
    ensemble: EnsembleSettings = EnsembleSettings()
    observed: ObservedSettings = ObservedSettings()
    qweather: QWeatherSettings = QWeatherSettings()
    cpi: CpiFeedSettings = CpiFeedSettings()
    freshness: FreshnessSettings = FreshnessSettings()
    fetch: FetchSettings = FetchSettings()

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def scheduled_feeds_fetched_before_stale(self):
        for feed in ("ensemble", "observed"):
            every, limit = getattr(self, feed).every_h, getattr(self.freshness, f"{feed}_max_age_h")
            if every >= limit:
                raise ValueError(f"{feed}.every_h ({every:g}) must be less than freshness.{feed}_max_age_h "
                                 f"({limit:g}), or every reused pull would be reported stale")
        return self


class ScheduleSettings(StrictModel):
    cycle_minutes: int = Field(default=60, ge=1, le=1440)
    tick_seconds: int = Field(default=15, ge=1, le=600)  # how often each instance checks whether a cycle is due
    deliver_seconds: int = Field(default=10, ge=1, le=3600)
    misfire_grace_s: int = Field(default=300, ge=1)


class SmtpSettings(StrictModel):
    host: str = ""  # empty: e-mail subscriptions park their messages, saying so
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str = ""
    password: str = ""  # better from COLDWARN_SMTP_PASSWORD than in the file
    sender: str = Field(default="coldwarn@localhost", pattern=r"^[^\s@]+@[^\s@]+$")


class DeliverySettings(StrictModel):
    retry_schedule_s: list[float] = Field(
        default=[0, 5, 300, 1800, 7200, 18000, 36000, 36000], min_length=1)
    timeout_s: float = Field(default=10, gt=0, le=120)
    batch_size: int = Field(default=500, ge=1, le=10000)
    lease_s: int = Field(default=120, ge=10, description="a claimed message returns to the queue after this")
    workers: int = Field(default=8, ge=1, le=64)  # sends in flight at once
    per_endpoint: int = Field(default=1, ge=1, le=64)  # to one subscriber; 1 keeps its events in order
    pipeline_depth: int = Field(default=16, ge=1, le=64)  # requests on their way at once on one connection
    disable_after_h: float = Field(default=72, gt=0)  # an endpoint failing this long is disabled
    allow_private_targets: bool = False
    smtp: SmtpSettings = SmtpSettings()
    console_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$",
                             description="the console as receivers' users reach it: Alertmanager links")
    cap_sender: str = Field(default="coldwarn@localhost", pattern=r"^[^\s,<&\"]+$")  # CAP <sender>: no spaces or commas

    @field_validator("retry_schedule_s")
    @classmethod
    def non_negative(cls, value: list[float]) -> list[float]:
        if any(v < 0 for v in value):
            raise ValueError("retry delays must be >= 0 seconds")
        return value


class WebSettings(StrictModel):
    secret_key: str = ""  # empty: generated once and kept in the instance folder
    language: Literal["zh", "en"] = "zh"
    secure_cookies: bool = True  # session cookie only over HTTPS; `make run` (plain HTTP on loopback) turns it off
    session_hours: float = Field(default=12, gt=0, le=720)  # a login lasts this long


class Settings(StrictModel):
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    feeds: FeedSettings = FeedSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    delivery: DeliverySettings = DeliverySettings()
    web: WebSettings = WebSettings()
    config_dir: Path = SHIPPED_CONFIG_DIR
    instance_dir: Path = Path("instance")

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.instance_dir / 'coldwarn.db').resolve()}"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings.toml from COLDWARN_CONFIG_DIR (default: the shipped config/) plus overrides."""
    env = dict(os.environ if env is None else env)
    config_dir = Path(env.get("COLDWARN_CONFIG_DIR") or SHIPPED_CONFIG_DIR)
    path = config_dir / "settings.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InvalidConfig([f"{path}: (file): not valid TOML: {error}"]) from None
    for variable, keys in ENV_OVERRIDES.items():
        if variable in env:
            target = data
            for part in keys[:-1]:
                target = target.setdefault(part, {})
            target[keys[-1]] = env[variable]
    data["config_dir"] = config_dir
    data["instance_dir"] = Path(env.get("COLDWARN_INSTANCE_DIR") or "instance")
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise InvalidConfig(describe(error, str(path))) from None


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated on first use and kept (0600) in the instance folder."""
    if settings.web.secret_key:
        return settings.web.secret_key
    path = settings.instance_dir / "secret_key"
    if not path.exists():
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()
