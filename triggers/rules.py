"""The threshold rules (config/rules.yaml): schema, validation and per-region inheritance.

Thresholds inherit nation -> province -> prefecture -> county: an override names a region code
and only the keys it changes. Every merged result is validated like the national rules.
A period changes the national rules for a span of months (2022's temporary CPI start of 3.0 %):
`Rules.in_month` gives the rules in force in a month, for weather the cycle's own and for the
price linkage the index's, so replaying an old month judges it by that month's rules.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

import pandas as pd
from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from triggers.levels import COLOUR_LEVELS
from triggers.caseload import CASELOAD_COUNTS
from triggers.regioncodes import ancestry, county_of
from triggers.validation import InvalidConfig, Problem, StrictModel, describe, details_of

# 发改价格〔2021〕1553号: the national start thresholds; localities may lower them, never raise.
NATIONAL_CPI_START_PCT = 3.5
NATIONAL_FOOD_CPI_START_PCT = 6.0
START_KEYS = ("cpi_start_pct", "food_cpi_start_pct")


class CmaLevel(StrictModel):
    drop_c: float = Field(gt=0, le=40, description="fall of the daily minimum, degC")
    window_h: Literal[24, 48]
    tmin_max_c: float = Field(ge=-60, le=30, description="daily minimum reached, degC or lower")
    wind_level_min: int = Field(ge=0, le=17, description="Beaufort level of the mean wind")


class ProbabilityStage(StrictModel):
    """A stage of a probabilistic trigger: this share of the ensemble members meeting a level, at most this
    many hours before the day it is met on."""
    min_pct: float = Field(gt=0, le=100, description="share of the ensemble members, percent")
    within_h: float = Field(gt=0, le=240, description="lead time of the day, hours")


class EnsembleRule(StrictModel):
    """How a daily rule uses an ensemble forecast: `deterministic` (the default) ignores it, `ensemble`
    decides on the members' share, `both` takes whichever of the two is more severe. Where a cycle has no
    members for a region, the deterministic forecast decides for it."""
    use: Literal["deterministic", "ensemble", "both"] = "deterministic"
    prepare: ProbabilityStage = ProbabilityStage(min_pct=40, within_h=120)
    act: ProbabilityStage = ProbabilityStage(min_pct=70, within_h=48)

    @model_validator(mode="after")
    def act_stricter(self):
        if self.act.min_pct < self.prepare.min_pct or self.act.within_h > self.prepare.within_h:
            raise PydanticCustomError("stages_order", "act needs at least prepare's share (min_pct) within at most "
                                      "its lead time (within_h)")
        return self


class ColdWaveRule(StrictModel):
    """CMA cold-wave warning signal (CMA Order No. 16)."""

    enabled: bool = True
    ensemble: EnsembleRule = EnsembleRule()
    blue: CmaLevel
    yellow: CmaLevel
    orange: CmaLevel
    red: CmaLevel
    resolve_after_quiet_cycles: int = Field(default=2, ge=1, le=48)

    @model_validator(mode="after")
    def levels_strictly_ordered(self):
        for lower_name, higher_name in zip(COLOUR_LEVELS, COLOUR_LEVELS[1:]):
            lower, higher = getattr(self, lower_name), getattr(self, higher_name)
            at_least_as_strict = (higher.drop_c >= lower.drop_c and higher.window_h <= lower.window_h
                                  and higher.tmin_max_c <= lower.tmin_max_c
                                  and higher.wind_level_min >= lower.wind_level_min)
            if not at_least_as_strict or higher == lower:
                raise PydanticCustomError(
                    "levels_order", "level {higher} must be stricter than {lower} on every criterion (larger "
                    "drop, shorter or equal window, lower minimum, stronger wind) and differ in one",
                    {"lower": lower_name, "higher": higher_name})
        return self


def check_ascending(levels: dict, stricter) -> None:
    """Levels must come in colour order, each stricter than the one below (`stricter(low, high)`)."""
    names = [n for n in COLOUR_LEVELS if n in levels]
    if list(levels) != names:
        raise PydanticCustomError("levels_listed", "levels must be listed in order {order}",
                                  {"order": ", ".join(COLOUR_LEVELS)})
    for low, high in zip(names, names[1:]):
        if not stricter(levels[low], levels[high]):
            raise PydanticCustomError("levels_order", "level {higher} must be stricter than {lower}",
                                      {"lower": low, "higher": high})


Colour = Literal["blue", "yellow", "orange", "red"]


class HazardRule(StrictModel):
    enabled: bool = True
    resolve_after_quiet_cycles: int = Field(default=2, ge=1, le=48)


class Grade(StrictModel):
    name: str
    name_en: str = ""  # for English evidence; empty: the name as it is
    level: Colour
    drop_24h_c: float = Field(gt=0, le=40)
    drop_48h_c: float = Field(gt=0, le=40)
    drop_72h_c: float = Field(gt=0, le=40)
    tmin_max_c: float = Field(ge=-60, le=30)


class GradeRule(HazardRule):
    """GB/T 21987-2017 cold-wave grades: a 24, 48 or 72 h drop of the daily minimum, and a minimum."""

    grades: list[Grade] = Field(min_length=1, max_length=4)
    ensemble: EnsembleRule = EnsembleRule()

    @model_validator(mode="after")
    def grades_ordered(self):
        check_ascending({g.level: g for g in self.grades}, lambda a, b: (
            b.drop_24h_c >= a.drop_24h_c and b.drop_48h_c >= a.drop_48h_c and b.drop_72h_c >= a.drop_72h_c
            and b.tmin_max_c <= a.tmin_max_c))
        if len({g.level for g in self.grades}) != len(self.grades):
            raise ValueError("each grade needs its own level")
        return self


class FrostLevel(StrictModel):
    ground_min_c: float = Field(ge=-40, le=10)
    within_h: int = Field(ge=1, le=120)


class FrostRule(HazardRule):
    """霜冻: the ground (or, without it, air) minimum reaching a threshold within the next hours."""

    months: list[int] = Field(default=[3, 4, 5, 9, 10, 11], min_length=1)
    levels: dict[Colour, FrostLevel]

    @model_validator(mode="after")
    def ordered(self):
        if not all(1 <= m <= 12 for m in self.months):
            raise ValueError("months are 1..12")
        check_ascending(self.levels, lambda a, b: b.ground_min_c < a.ground_min_c and b.within_h <= a.within_h)
        return self


class PersistentLevel(StrictModel):
    tmin_below_c: float = Field(ge=-60, le=20)
    anomaly_c: float | None = Field(default=None, lt=0, ge=-30)  # N-day mean this far below normal


class PersistentColdRule(HazardRule):
    """持续低温 (local rule): the daily minimum below a threshold N days running, or far below normal."""

    days: int = Field(default=3, ge=2, le=10)
    levels: dict[Colour, PersistentLevel]
    ensemble: EnsembleRule = EnsembleRule()

    @model_validator(mode="after")
    def ordered(self):
        check_ascending(self.levels, lambda a, b: b.tmin_below_c < a.tmin_below_c and (
            a.anomaly_c is None or b.anomaly_c is None or b.anomaly_c < a.anomaly_c))
        return self


class ShelterLevel(StrictModel):
    apparent_max_c: float = Field(ge=-60, le=15)


class ShelterRule(HazardRule):
    """Night cold for people sleeping rough (in the spirit of Code Blue): apparent temperature at night."""

    night_start_hour: int = Field(default=16, ge=0, le=23)
    night_end_hour: int = Field(default=8, ge=0, le=23)
    within_h: int = Field(default=48, ge=6, le=120)
    levels: dict[Colour, ShelterLevel]

    @model_validator(mode="after")
    def ordered(self):
        check_ascending(self.levels, lambda a, b: b.apparent_max_c < a.apparent_max_c)
        return self


class OfficialRule(HazardRule):
    """Official warnings in force (QWeather, CAP), by event type code, at their own colour."""

    events: list[str] = Field(default=["1005", "1008", "1016", "1021", "1030", "1039", "1050", "1056", "1059"])
    resolve_after_quiet_cycles: int = Field(default=1, ge=1, le=48)


class PriceLinkageRule(StrictModel):
    """社会救助和保障标准与物价上涨挂钩联动机制."""

    cpi_start_pct: float = Field(gt=0, le=NATIONAL_CPI_START_PCT)
    food_cpi_start_pct: float = Field(gt=0, le=NATIONAL_FOOD_CPI_START_PCT)
    round_to_yuan: Literal[1, 0.1, 0.01] = 1
    floor_yuan: float = Field(default=0, ge=0, le=1000)


MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class Period(StrictModel):
    """National rules changed for the months from `start` to `until` (both included, YYYY-MM)."""

    start: str = Field(pattern=MONTH)
    until: str = Field(pattern=MONTH)
    note: str = ""
    changes: dict = Field(min_length=1)  # like an override: rule sections and only the keys they change

    @model_validator(mode="after")
    def in_order(self):
        if self.until < self.start:
            raise ValueError("until must not come before start")
        return self

    def covers(self, month: str) -> bool:
        return self.start <= month <= self.until


class Stages(StrictModel):
    act_within_h: float = Field(default=48, gt=0, le=240)
    prepare_within_h: float = Field(default=120, gt=0, le=240)

    @model_validator(mode="after")
    def act_before_prepare(self):
        if self.act_within_h > self.prepare_within_h:
            raise ValueError("act_within_h must not exceed prepare_within_h")
        return self

    def stage_for(self, lead_time_h: float) -> str | None:
        if lead_time_h <= self.act_within_h:
            return "act"
        if lead_time_h <= self.prepare_within_h:
            return "prepare"
        return None


class ReconcilePolicy(StrictModel):
    onset_change_h: float = Field(default=6, gt=0, le=72)


class HolidaySubsidy(StrictModel):
    """A province's holiday subsidy (Jiangsu: 200 元 each for 低保, 特困 and orphans); 0: none."""
    per_person_yuan: float = Field(default=0, ge=0, le=10_000)
    groups: list[Literal[CASELOAD_COUNTS]] = ["dibao_urban", "dibao_rural", "tekun_urban", "tekun_rural",  # type: ignore[valid-type]
                                               "orphans", "unsupported_children"]


class FestivalRule(StrictModel):
    """元旦 and 春节: the month's benefits paid early, and the holiday subsidy where one is set."""
    enabled: bool = True
    festivals: list[Literal["new_year", "spring_festival"]] = ["new_year", "spring_festival"]
    notice_days: int = Field(default=21, ge=1, le=60)  # the tasks appear this many days before
    pay_working_days_before: int = Field(default=5, ge=1, le=20)  # paid by the end of this working day before
    subsidy: HolidaySubsidy = HolidaySubsidy()


class RegionalRules(StrictModel):
    """What a region may override."""

    cold_wave: ColdWaveRule
    cold_wave_grade: GradeRule
    frost: FrostRule
    persistent_cold: PersistentColdRule
    shelter: ShelterRule
    official: OfficialRule
    price_linkage: PriceLinkageRule
    festival: FestivalRule = FestivalRule()


HAZARDS = ("cold_wave", "cold_wave_grade", "frost", "persistent_cold", "shelter", "official")


class RuleSet(RegionalRules):
    stages: Stages = Stages()
    reconcile: ReconcilePolicy = ReconcilePolicy()
    periods: list[Period] = []
    overrides: dict[str, dict] = {}


class Rules:
    """Validated rules plus each region's effective thresholds."""

    def __init__(self, ruleset: RuleSet, version: str, content: dict | None = None):
        self.ruleset = ruleset
        self.version = version
        self.content = content or {}  # the file as read, kept with the version it hashes to
        self._effective: dict[tuple[str, ...], RegionalRules] = {}
        self._months: dict[tuple[int, ...], Rules] = {}

    @property
    def stages(self) -> Stages:
        return self.ruleset.stages

    @property
    def reconcile(self) -> ReconcilePolicy:
        return self.ruleset.reconcile

    def in_month(self, month: str) -> Rules:
        """The rules in force in `month` (YYYY-MM): the national rules as its periods change them."""
        active = tuple(i for i, p in enumerate(self.ruleset.periods) if p.covers(month))
        if not active:
            return self
        if active not in self._months:
            national = self.ruleset.model_dump(include=set(RegionalRules.model_fields))
            for index in active:
                national = deep_merge(national, self.ruleset.periods[index].changes)
            changed = self.ruleset.model_copy(update=dict(RegionalRules.model_validate(national)))
            self._months[active] = Rules(changed, self.version, self.content)
        return self._months[active]

    def for_chain(self, chain: tuple[str, ...]) -> RegionalRules:
        """Effective rules for a region whose overriding ancestors (outermost first) are `chain`.
        A locality may lower the price-linkage starts, never raise them: a local value above the one
        it inherits (as when a period lowers the national start below it) gives way to the inherited."""
        if chain not in self._effective:
            merged = self.ruleset.model_dump(include=set(RegionalRules.model_fields))
            for code in chain:
                inherited = merged["price_linkage"]
                merged = deep_merge(merged, self.ruleset.overrides[code])
                merged["price_linkage"] = no_higher(merged["price_linkage"], inherited)
            self._effective[chain] = RegionalRules.model_validate(merged)
        return self._effective[chain]

    def override_chain(self, region: dict) -> tuple[str, ...]:
        codes = (region["province_code"], region["prefecture_code"], county_of(region["code"]), region["code"])
        return tuple(dict.fromkeys(c for c in codes if c in self.ruleset.overrides))

    def thresholds(self, regions: pd.DataFrame) -> pd.DataFrame:
        """One row per region code: every threshold the assessments need, as flat columns."""
        chains = [self.override_chain(r) for r in regions.to_dict("records")]
        flat = {chain: flatten(self.for_chain(chain)) for chain in set(chains)}
        return pd.DataFrame([flat[c] for c in chains], index=regions["code"].to_numpy())


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def no_higher(section, inherited):
    """The price-linkage section with its start thresholds no higher than those inherited (anything
    malformed is left for validation to name)."""
    if not isinstance(section, dict) or not isinstance(inherited, dict):
        return section
    lowered = {key: min(section[key], inherited[key]) for key in START_KEYS
               if is_number(section.get(key)) and is_number(inherited.get(key))}
    return section | lowered


def flatten(rules: RegionalRules) -> dict:
    """Dotted columns: 'cold_wave.blue.drop_c', 'frost.levels.yellow.within_h', 'frost.months' (a tuple),
    'cold_wave_grade.grades.0.drop_24h_c'. Absent optional levels are absent columns."""
    row: dict = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, item in enumerate(value):
                walk(f"{prefix}.{index}", item)
        else:
            row[prefix] = tuple(value) if isinstance(value, list) else value

    walk("", rules.model_dump())
    return row


def deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_rules(data: object, known_codes: set[str] | None, source: str = "rules.yaml") -> Rules:
    """Validate the national rules and every override; raise InvalidConfig listing all problems.

    `known_codes` None skips the region check (when the region list itself failed to load).
    """
    if not isinstance(data, dict):
        raise InvalidConfig([f"{source}: (top level): must be a mapping of rule sections"])
    try:
        ruleset = RuleSet.model_validate(data)
    except ValidationError as error:
        raise InvalidConfig(describe(error, source), details_of(error)) from None
    rules = Rules(ruleset, version=rules_version(data), content=data)
    problems, details = [], []
    for index, period in enumerate(ruleset.periods):
        try:
            rules.in_month(period.start)
        except ValidationError as error:
            problems += describe(error, source, prefix=f"periods.{index}.changes")
            details += details_of(error, prefix=f"periods.{index}.changes")
    for code, override in ruleset.overrides.items():
        words, found = override_problems(rules, code, override, known_codes, source)
        problems += words
        details += found
    if problems:
        raise InvalidConfig(problems, details)
    return rules


OVERRIDE_WORDS = {"unknown_region": "unknown region code", "not_mapping": "must be a mapping",
                  "raised_above_inherited": "may be lowered locally, never raised above {limit}"}


def override_problems(rules: Rules, code: str, override: object, known: set[str] | None,
                      source: str) -> tuple[list[str], list[Problem]]:
    """What is wrong with one region's override, in words and as data."""
    where = f"overrides.{code}"
    if known is not None and code not in known:
        return described(source, [Problem(where, "unknown_region", {})])
    if not isinstance(override, dict):
        return described(source, [Problem(where, "not_mapping", {})])
    chain = tuple(c for c in ancestry(code) if c in rules.ruleset.overrides)
    try:
        rules.for_chain(chain)  # (validates the merged rules)
    except ValidationError as error:
        return describe(error, source, prefix=where), details_of(error, where)
    parent = rules.for_chain(chain[:-1]).price_linkage
    own = override.get("price_linkage") if isinstance(override.get("price_linkage"), dict) else {}
    return described(source, [
        Problem(f"{where}.price_linkage.{key}", "raised_above_inherited", {"limit": getattr(parent, key)})
        for key in START_KEYS if is_number(own.get(key)) and own[key] > getattr(parent, key)])


def described(source: str, problems: list[Problem]) -> tuple[list[str], list[Problem]]:
    return [f"{source}: {p.key}: {OVERRIDE_WORDS[p.kind].format(**p.context)}" for p in problems], problems


def rules_version(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:12]
