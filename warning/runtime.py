"""What a running coldwarn holds: validated config, database, HTTP session."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from warning.config import AppConfig, load_config
from warning.db import make_engine, session_factory
from warning.settings import Settings, load_settings


@dataclass
class Runtime:
    config: AppConfig
    engine: Engine
    sessions: sessionmaker
    http: requests.Session

    @property
    def settings(self) -> Settings:
        return self.config.settings

    @classmethod
    def start(cls, settings: Settings | None = None) -> "Runtime":
        """Load and validate everything; raises InvalidConfig naming each problem."""
        config = load_config(settings or load_settings())
        engine = make_engine(config.settings.database_url)
        http = requests.Session()
        http.headers["user-agent"] = "coldwarn/0.1"
        return cls(config, engine, session_factory(engine), http)

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()
