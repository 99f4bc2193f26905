"""What a running coldwarn holds: validated config, database, HTTP session."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from triggers.rules import parse_rules
from triggers.validation import InvalidConfig
from warning.config import AppConfig, load_config, read_yaml
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

    def refresh_rules(self) -> None:
        """Take up an edited rules.yaml between cycles; a broken edit is logged and the rules in force stay."""
        path = self.settings.config_dir / "rules.yaml"
        try:
            content = read_yaml(path)
            if content == self.config.rules.content:
                return
            rules = parse_rules(content, self.config.area_codes, str(path))
        except InvalidConfig as error:
            logging.getLogger(__name__).error("rules.yaml not taken up, the rules in force stay: %s", error)
            return
        self.config = dataclasses.replace(self.config, rules=rules)

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()
