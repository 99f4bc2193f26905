"""Loading and validating every shipped config file; problems name the file, key and reason."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from notifiers import CHANNELS
from notifiers.mail import recipients_of
from notifiers.sms import SMS_PLACEHOLDERS
from notifiers.webhook import decode_secret
from triggers.playbook import Playbook, parse_playbook
from triggers.regioncodes import NATION, county_of
from triggers.rules import Rules, parse_rules
from triggers.validation import InvalidConfig, StrictModel, describe
from warning.csvtable import Column, number, read_table, region_code, text
from warning.settings import Settings

COUNTY_EVENTS = ("alert.issued", "alert.updated", "alert.resolved", "tasklist.issued", "task.updated",
                 "task.overdue", "subsidy.issued")
ADMIN_EVENTS = ("feed.stale", "feed.recovered", "subscription.disabled")  # only to subscriptions that ask
EVENT_TYPES = COUNTY_EVENTS + ADMIN_EVENTS


def zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    return value


def optional_coordinate(limit: float):
    def parse(value: str) -> float:
        result = number(value)
        if not -limit <= result <= limit:
            raise ValueError(f"must be between -{limit} and {limit}")
        return result
    return parse


REGION_COLUMNS = [
    Column("code", region_code), Column("name", text),
    Column("province_code", region_code), Column("province_name", text),
    Column("prefecture_code", region_code), Column("prefecture_name", text),
    Column("latitude", optional_coordinate(90), required=False),
    Column("longitude", optional_coordinate(180), required=False),
    Column("timezone", zone),
]


PHONE = re.compile(r"^\+?\d{5,15}$")
MAILBOX = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class SubscriptionConfig(StrictModel):
    """Who gets which events, how. Each channel checks what it needs; see channel_needs."""

    name: str = Field(pattern=r"^[\w.-]{1,64}$")
    channel: Literal[CHANNELS] = "webhook"
    url: str = Field(pattern=r"^(https?://|mailto:)", max_length=2000)  # e-mail: mailto:a@x,b@y
    secrets: list[str] = Field(default=[], max_length=3)
    regions: list[str] = []  # region codes (county, prefecture or province); empty: everywhere
    events: list[str] = list(COUNTY_EVENTS)
    format: Literal["json", "cap", "alertmanager"] = "json"  # webhooks only
    lang: Literal["zh", "en"] = "zh"  # for what people read: robots, e-mail, SMS
    to: list[str] = Field(default=[], max_length=100)  # SMS: phone numbers
    body: dict | None = None  # SMS: the gateway's JSON body, with placeholders
    headers: dict[str, str] = {}  # SMS: extra headers, with placeholders
    batch: int | None = Field(default=None, ge=1, le=1000)  # JSON webhooks: up to this many events per POST

    @field_validator("events")
    @classmethod
    def known_events(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {list(EVENT_TYPES)}")
        return values

    @model_validator(mode="after")
    def channel_needs(self) -> "SubscriptionConfig":
        problem = channel_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def options(self) -> dict:
        """What only some channels use, stored together."""
        return {key: value for key, value in (("to", self.to), ("body", self.body), ("headers", self.headers),
                                              ("batch", self.batch)) if value}


def channel_problem(config: SubscriptionConfig) -> str | None:
    channel, secrets = config.channel, config.secrets
    if (channel == "email") != config.url.startswith("mailto:"):
        return "url: e-mail subscriptions take mailto:address[,address]; the others an http(s) URL"
    if config.format != "json" and channel != "webhook":
        return f"format: {config.format} is for webhook subscriptions"
    if channel != "sms" and (config.to or config.body or config.headers):
        return "to, body and headers are for sms subscriptions"
    if config.batch and (channel != "webhook" or config.format == "cap"):
        return "batch: only JSON and Alertmanager webhooks take events in batches"
    if channel == "webhook":
        if not secrets:
            return "secrets: a webhook needs at least one whsec_ secret"
        for secret in secrets:
            try:
                decode_secret(secret)
            except ValueError as error:
                return f"secrets: {error}"
    elif channel == "dingtalk":
        if len(secrets) != 1 or not secrets[0].startswith("SEC"):
            return "secrets: a DingTalk robot needs its one signing secret (SEC…), from 加签 in the robot's settings"
    elif channel == "email":
        addresses = recipients_of(config.url)
        bad = [a for a in addresses if not MAILBOX.match(a)]
        if not addresses or bad or secrets:
            return f"url: not valid addresses {bad}" if bad else "url: mailto: needs an address; e-mail takes no secrets"
    elif channel == "sms":
        bad = [number for number in config.to if not PHONE.match(number)]
        if not config.to or bad:
            return f"to: phone numbers like +8613800000000 or 13800000000 (bad: {bad})"
        used = set(PLACEHOLDER.findall(json.dumps([config.body, config.headers], ensure_ascii=False)))
        if used - SMS_PLACEHOLDERS:
            return f"body/headers: unknown placeholder(s) {sorted(used - SMS_PLACEHOLDERS)}; known: {sorted(SMS_PLACEHOLDERS)}"
        if len(secrets) > 1:
            return "secrets: an SMS gateway takes at most one secret"
    elif secrets:
        return "secrets: a WeCom robot takes none (its key is in the URL)"
    return None


@dataclass(frozen=True)
class AppConfig:
    settings: Settings
    regions: pd.DataFrame
    rules: Rules
    playbook: Playbook
    subscriptions: list[SubscriptionConfig]

    @cached_property
    def region_codes(self) -> set[str]:
        return set(self.regions["code"])

    @cached_property
    def regions_by_code(self) -> dict[str, dict]:
        """Each region's row (code, names, province, prefecture, coordinates, zone), built once."""
        return self.regions.set_index("code", drop=False).to_dict("index")

    @cached_property
    def tz_by_code(self) -> pd.Series:
        return self.regions.set_index("code")["timezone"]

    @cached_property
    def area_names(self) -> dict[str, str]:
        """The name of every region, prefecture and province, by code."""
        names = dict(zip(self.regions["province_code"], self.regions["province_name"]))
        names |= dict(zip(self.regions["prefecture_code"], self.regions["prefecture_name"]))
        return names | dict(zip(self.regions["code"], self.regions["name"]))

    @cached_property
    def area_codes(self) -> set[str]:
        """Regions, their counties, prefectures and provinces, and the nation (000000)."""
        return ancestor_codes(self.regions) | {NATION}


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidConfig([f"{path}: file not found"]) from None
    except UnicodeDecodeError as error:
        raise InvalidConfig([f"{path}: not UTF-8 text (byte {error.start})"]) from None


def read_yaml(path: Path) -> object:
    return parse_yaml(read_text(path), str(path))


MAX_YAML_DEPTH = 32  # the deepest config (a rule override's level) is five; far deeper is an attack


def parse_yaml(text: str, source: str) -> object:
    """YAML text (safe types only); a syntax error names the source, line and column."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidConfig([f"{source}: not valid YAML{where}: {getattr(error, 'problem', error)}"]) from None
    except RecursionError:  # the parser recurses once per level: a thousand levels end it
        raise too_deep(source) from None
    if deeper_than(data, MAX_YAML_DEPTH):
        raise too_deep(source)
    return data


def too_deep(source: str) -> InvalidConfig:
    return InvalidConfig([f"{source}: not valid YAML: nested more than {MAX_YAML_DEPTH} levels deep"])


def deeper_than(data: object, limit: int) -> bool:
    """Whether mappings and lists nest more than `limit` levels (checked without recursion)."""
    level = [data]
    for _ in range(limit):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return False
    return any(isinstance(item, (dict, list)) for item in level)


def load_regions(path: Path) -> pd.DataFrame:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise InvalidConfig([f"{path}: file not found"]) from None
    rows = read_table(content, str(path), REGION_COLUMNS)
    problems = region_problems(rows, str(path))
    if problems:
        raise InvalidConfig(problems)
    return pd.DataFrame(rows)


def region_problems(rows: list[dict], source: str) -> list[str]:
    problems, seen = [], set()
    for line, row in enumerate(rows, start=2):
        code = row["code"]
        if code in seen:
            problems.append(f"{source}, row {line}, column code: duplicate region code {code}")
        seen.add(code)
        if row["province_code"] != code[:2] + "0000":
            problems.append(f"{source}, row {line}, column province_code: does not match code {code}")
        if (row["latitude"] is None) != (row["longitude"] is None):
            problems.append(f"{source}, row {line}: latitude and longitude must both be given or both empty")
    return problems


def ancestor_codes(regions: pd.DataFrame) -> set[str]:
    """The regions and every area above them (a township's county too)."""
    return (set(regions["code"]) | {county_of(code) for code in regions["code"]}
            | set(regions["prefecture_code"]) | set(regions["province_code"]))


def load_subscriptions(path: Path, known_codes: set[str]) -> list[SubscriptionConfig]:
    if not path.exists():
        return []
    data = read_yaml(path) or {}
    entries = data.get("subscriptions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InvalidConfig([f"{path}: subscriptions: must be a list"])
    result, problems = [], []
    for index, entry in enumerate(entries):
        try:
            subscription = SubscriptionConfig.model_validate(entry)
        except ValidationError as error:
            problems += describe(error, str(path), prefix=f"subscriptions.{index}")
            continue
        problems += [f"{path}: subscriptions.{index}.regions: unknown region code {c}"
                     for c in subscription.regions if c not in known_codes]
        result.append(subscription)
    names = [s.name for s in result]
    problems += [f"{path}: subscriptions: name {n!r} is used twice" for n in sorted(set(names)) if names.count(n) > 1]
    if problems:
        raise InvalidConfig(problems)
    return result


def load_config(settings: Settings) -> AppConfig:
    """Every config file, each validated; all problems reported together."""
    directory = settings.config_dir
    problems: list[str] = []

    def attempt(load):
        try:
            return load()
        except InvalidConfig as error:
            problems.extend(error.problems)
            return None

    regions = attempt(lambda: load_regions(directory / "regions" / "regions.csv"))
    known = ancestor_codes(regions) if regions is not None else None
    rules = attempt(lambda: parse_rules(read_yaml(directory / "rules.yaml"), known,
                                        str(directory / "rules.yaml")))
    playbook = attempt(lambda: parse_playbook(read_yaml(directory / "playbooks.yaml"),
                                              str(directory / "playbooks.yaml")))
    subscriptions = attempt(lambda: load_subscriptions(directory / "subscriptions.yaml", known or set()))
    if problems:
        raise InvalidConfig(problems)
    return AppConfig(settings, regions, rules, playbook, subscriptions)
