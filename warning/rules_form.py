"""The threshold rules as a form: one hazard's values for the nation or for one area, each with where
it comes from, and an edit written back into rules.yaml with its comments kept (ruamel's round trip).
An area's override holds only what differs from what it inherits: a value typed equal to the
inherited one, or left empty, is no override."""

from __future__ import annotations

import io
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from triggers.levels import COLOUR_LEVELS, HAZARD_NAMES
from triggers.regioncodes import NATION, ancestry
from triggers.rules import RegionalRules, Rules
from triggers.validation import Problem



@dataclass(frozen=True)
class Field:
    key: str
    words: tuple[str, str]  # (Chinese, English)
    unit: tuple[str, str] = ("", "")
    kind: str = "number"  # number | integer | choice (of numbers) | word (a choice of words) | switch
    choices: tuple = ()
    optional: bool = False  # may be empty nationally too: the criterion is then not used


@dataclass(frozen=True)
class HazardForm:
    section: str
    rows: str | None  # where its levels are: "" (the section itself), "levels", "grades"; None: no table
    columns: tuple[Field, ...] = ()
    settings: tuple[Field, ...] = ()
    yaml_only: tuple[str, ...] = ()  # keys edited in the YAML view (lists of months or event codes)


C, HOURS, CYCLES, PCT = ("°C", "°C"), ("小时", "h"), ("轮", "cycles"), ("%", "%")
ENABLED = Field("enabled", ("启用", "enabled"), kind="switch")
QUIET = Field("resolve_after_quiet_cycles", ("连续几轮未触发后解除", "resolved after quiet cycles"), CYCLES, "integer")
WORD_NAMES = {"deterministic": ("确定性预报", "the deterministic forecast"), "ensemble": ("集合预报", "the ensemble"),
              "both": ("两者，取较重者", "both, the more severe")}
ENSEMBLE = (  # the probabilistic trigger of a daily rule (triggers.ensemble)
    Field("ensemble.use", ("预警依据", "decided by"), kind="word", choices=tuple(WORD_NAMES)),
    Field("ensemble.prepare.min_pct", ("准备：达到标准的集合成员占比不低于", "prepare: share of members meeting it at least"), PCT),
    Field("ensemble.prepare.within_h", ("准备：提前时段", "prepare: within the next"), HOURS),
    Field("ensemble.act.min_pct", ("行动：达到标准的集合成员占比不低于", "act: share of members meeting it at least"), PCT),
    Field("ensemble.act.within_h", ("行动：提前时段", "act: within the next"), HOURS),
)

FORMS = {form.section: form for form in (
    HazardForm("cold_wave", "", (
        Field("drop_c", ("最低气温降幅", "fall of the minimum"), C),
        Field("window_h", ("降温时段", "within"), HOURS, "choice", (24, 48)),
        Field("tmin_max_c", ("最低气温不高于", "minimum at or below"), C),
        Field("wind_level_min", ("平均风力不低于", "mean wind at least"), ("级", "Beaufort"), "integer"),
    ), (ENABLED, QUIET, *ENSEMBLE)),
    HazardForm("cold_wave_grade", "grades", (
        Field("drop_24h_c", ("24 小时降幅", "24 h fall"), C),
        Field("drop_48h_c", ("48 小时降幅", "48 h fall"), C),
        Field("drop_72h_c", ("72 小时降幅", "72 h fall"), C),
        Field("tmin_max_c", ("最低气温不高于", "minimum at or below"), C),
    ), (ENABLED, QUIET, *ENSEMBLE)),
    HazardForm("frost", "levels", (
        Field("ground_min_c", ("地面最低温度不高于", "ground minimum at or below"), C),
        Field("within_h", ("未来时段", "within the next"), HOURS, "integer"),
    ), (ENABLED, QUIET), ("months",)),
    HazardForm("persistent_cold", "levels", (
        Field("tmin_below_c", ("最低气温低于", "minimum below"), C),
        Field("anomaly_c", ("或平均气温距平不高于", "or mean anomaly at or below"), C, optional=True),
    ), (ENABLED, Field("days", ("连续天数", "days running"), ("天", "days"), "integer"), QUIET, *ENSEMBLE)),
    HazardForm("shelter", "levels", (
        Field("apparent_max_c", ("夜间体感温度不高于", "night apparent temperature at or below"), C),
    ), (ENABLED, Field("night_start_hour", ("夜间开始", "night starts"), ("时", "h"), "integer"),
        Field("night_end_hour", ("夜间结束", "night ends"), ("时", "h"), "integer"),
        Field("within_h", ("未来时段", "within the next"), HOURS, "integer"), QUIET)),
    HazardForm("official", None, (), (ENABLED, QUIET), ("events",)),
    HazardForm("price_linkage", None, (), (
        Field("cpi_start_pct", ("CPI 单月同比涨幅启动条件", "CPI year-on-year start"), ("%", "%")),
        Field("food_cpi_start_pct", ("食品价格单月同比涨幅启动条件", "food CPI year-on-year start"), ("%", "%")),
        Field("round_to_yuan", ("补贴取整到", "rounded to"), ("元", "yuan"), "choice", (1, 0.1, 0.01)),
        Field("floor_yuan", ("最低发放金额", "paid from"), ("元", "yuan")),
    )),
    HazardForm("festival", None, (), (
        ENABLED,
        Field("notice_days", ("节前几天出现任务", "tasks appear this many days before"), ("天", "days"), "integer"),
        Field("pay_working_days_before", ("节前第几个工作日前发放完毕", "paid by this working day before"),
              ("个工作日", "working days"), "integer"),
        Field("subsidy.per_person_yuan", ("节日补贴（每人，0 为不发）", "holiday subsidy per person (0: none)"),
              ("元", "yuan")),
    ), ("festivals", "subsidy.groups")),
)}
SECTION_NAMES = HAZARD_NAMES | {"festival": {"zh": "节日", "en": "festivals"}}

FIELD_WORDS = {field.key.rsplit(".", 1)[-1]: field.words for form in FORMS.values()
               for field in (*form.columns, *form.settings)} | {  # by each part of a key, as a problem names it
    "ensemble": ("集合预报", "ensemble"), "prepare": ("准备", "prepare"), "act": ("行动", "act"),
    "use": ("预警依据", "decided by"), "min_pct": ("达到标准的集合成员占比", "share of members meeting it"),
    "within_h": ("提前时段", "within the next")}


@dataclass(frozen=True)
class Cell:
    path: str  # within the section: "blue.drop_c", "levels.yellow.within_h", "grades.0.drop_24h_c", "enabled"
    field: Field
    value: object  # in force for the area
    own: object  # what the area itself sets (at the nation: the value); None where it inherits
    inherited: object  # what it would have without its own value (None at the nation)
    origin: str  # the code of the area (or NATION) the value in force comes from


@dataclass(frozen=True)
class Row:
    key: str  # a level, or a grade's index
    level: str
    label: tuple[str, str] | None  # a grade's names; None: the level's colour names it
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class HazardView:
    form: HazardForm
    area: str
    rows: tuple[Row, ...]
    settings: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return tuple(cell for row in self.rows for cell in row.cells) + self.settings


def view(rules: Rules, section: str, area: str) -> HazardView:
    """Every value of one hazard for `area` (NATION, a province, prefecture or county code)."""
    form = FORMS[section]
    chain = overriding(rules, area)
    in_force = rules.for_chain(chain).model_dump()[section]
    inherited = rules.for_chain(chain[:-1]).model_dump()[section] if area in chain else in_force
    layers = [(NATION, national(rules))] + [(code, rules.ruleset.overrides[code]) for code in chain]

    def cell(path: str, field: Field) -> Cell:
        parts = path.split(".")
        origin = next((code for code, layer in reversed(layers) if sets(layer.get(section, {}), parts)), NATION)
        value = value_at(in_force, parts)
        if area == NATION:
            return Cell(path, field, value, value, None, NATION)
        return Cell(path, field, value, value if origin == area else None, value_at(inherited, parts), origin)

    rows = tuple(Row(key, level, label, tuple(cell(f"{prefix}{key}.{c.key}", c) for c in form.columns))
                 for prefix, key, level, label in row_keys(form, in_force))
    return HazardView(form, area, rows, tuple(cell(f.key, f) for f in form.settings))


def row_keys(form: HazardForm, section: dict) -> list[tuple[str, str, str, tuple[str, str] | None]]:
    """(path prefix, row key, level, label) of each row of the hazard's table."""
    if form.rows is None:
        return []
    if form.rows == "grades":
        return [("grades.", str(i), g["level"], (g["name"], g["name_en"] or g["name"]))
                for i, g in enumerate(section["grades"])]
    levels = section if form.rows == "" else section[form.rows]
    return [(f"{form.rows}." if form.rows else "", level, level, None) for level in COLOUR_LEVELS if level in levels]


def overriding(rules: Rules, area: str) -> tuple[str, ...]:
    """The areas, outermost first, whose overrides apply to `area` (itself included)."""
    return () if area == NATION else tuple(c for c in ancestry(area) if c in rules.ruleset.overrides)


def national(rules: Rules) -> dict:
    return rules.ruleset.model_dump(include=set(RegionalRules.model_fields))


def sets(tree: object, parts: list[str]) -> bool:
    """Whether one layer sets the value at `parts`; a list (the grades) is set as a whole."""
    for part in parts:
        if isinstance(tree, list):
            return True
        if not isinstance(tree, dict) or part not in tree:
            return False
        tree = tree[part]
    return True


def value_at(tree: object, parts: list[str]) -> object:
    for part in parts:
        if isinstance(tree, list):
            tree = tree[int(part)] if int(part) < len(tree) else None
        elif isinstance(tree, dict):
            tree = tree.get(part)
        else:
            return None
    return tree


def parse_entries(hazard: HazardView, entries: dict[str, str]) -> tuple[dict[str, object], list[Problem]]:
    """The typed values by path (None: empty, i.e. inherit) and the problems of what cannot be read."""
    values, problems = {}, []
    for cell in hazard.cells:
        text = entries.get(cell.path, "").strip()
        try:
            values[cell.path] = typed(cell.field, text, required=hazard.area == NATION and not cell.field.optional)
        except ValueError as error:
            problems.append(Problem(cell.path, str(error), {"input": text, "expected": cell.field.choices}))
    return values, problems


def typed(field: Field, text: str, required: bool) -> object:
    if not text:
        if required:
            raise ValueError("required")
        return None
    if field.kind == "switch":
        if text not in ("true", "false"):
            raise ValueError("not_a_choice")
        return text == "true"
    if field.kind == "word":
        if text not in field.choices:
            raise ValueError("not_a_choice")
        return text
    unreadable = "not_a_choice" if field.kind == "choice" else "not_a_number"
    try:
        number = float(text.replace("−", "-"))  # (the minus sign a word processor types)
    except ValueError:
        raise ValueError(unreadable) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(unreadable)
    if field.kind == "integer" and not number.is_integer():
        raise ValueError("not_an_integer")
    if field.kind == "choice" and number not in field.choices:
        raise ValueError("not_a_choice")
    return plain(number)


def edited_text(text: str, hazard: HazardView, values: dict[str, object], area_name: str) -> str:
    """The rules YAML with this hazard's values for the area set as given, comments kept."""
    yaml = round_trip()
    document = yaml.load(text)
    section = hazard.form.section
    if hazard.area == NATION:
        in_force = {cell.path: cell.value for cell in hazard.cells}
        for path, value in values.items():
            if not same(value, in_force[path]):  # untouched values stay as written (or as defaulted)
                put(document[section], path.split("."), value)
    else:
        overrides = document.setdefault("overrides", CommentedMap())
        key = next((k for k in overrides if str(k) == hazard.area), DoubleQuotedScalarString(hazard.area))
        if key not in overrides:
            overrides[key] = CommentedMap()
            overrides.yaml_add_eol_comment(area_name, key)
        own = overrides[key].setdefault(section, CommentedMap())
        own_values(own, hazard, values)
        if not own:
            del overrides[key][section]
        if not overrides[key]:
            del overrides[key]
    written = io.StringIO()
    yaml.dump(document, written)
    return written.getvalue()


def own_values(own: CommentedMap, hazard: HazardView, values: dict[str, object]) -> None:
    """An area's own values: those that differ from what it inherits. The grades are a list, which an
    override replaces whole: any grade that differs brings the list, the rest as inherited."""
    inherited = {cell.path: cell.inherited for cell in hazard.cells}
    wanted = {path: plain(inherited[path] if value is None else value) for path, value in values.items()}
    grades = {path: value for path, value in wanted.items() if path.startswith("grades.")}
    for path, value in wanted.items():
        if path not in grades:
            put(own, path.split("."), None if same(value, inherited[path]) else value)
    if grades:
        if all(same(value, inherited[path]) for path, value in grades.items()):
            own.pop("grades", None)
        else:
            own["grades"] = [one_line(grade | {path.split(".")[2]: value for path, value in grades.items()
                                               if path.split(".")[1] == str(index)})
                             for index, grade in enumerate(inherited_grades(hazard))]


def inherited_grades(hazard: HazardView) -> list[dict]:
    """The grades the area inherits, whole (names and levels too), in order."""
    return [dict(name=row.label[0], **({"name_en": row.label[1]} if row.label[1] != row.label[0] else {}),
                 level=row.level, **{cell.field.key: plain(cell.inherited) for cell in row.cells})
            for row in hazard.rows]


def one_line(mapping: dict) -> CommentedMap:
    """A mapping written `{a: 1, b: 2}`, as the shipped file writes levels and grades."""
    line = CommentedMap(mapping)
    line.fa.set_flow_style()
    return line


def plain(value):
    """12.0 as 12: the YAML written reads as a person would write it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def put(tree, parts: list[str], value) -> None:
    """Set the value at `parts` (None: remove it, and mappings it leaves empty), keeping flow style."""
    *above, last = parts
    trail = [tree]
    for part in above:
        node = trail[-1]
        if isinstance(node, list):
            trail.append(node[int(part)])
        else:
            if value is None and part not in node:
                return
            trail.append(node.setdefault(part, CommentedMap()))
    node = trail[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
        for parent, part in zip(reversed(trail[:-1]), reversed(above)):
            if isinstance(parent, dict) and parent.get(part) == {}:
                del parent[part]
    else:
        node[last] = value


def same(a, b) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return float(a) == float(b) if numbers else a == b


def round_trip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # long comments stay on their line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def placed(problems: list[Problem], hazard: HazardView) -> tuple[dict[str, list[Problem]], list[Problem], list[Problem]]:
    """The problems at a field of the form, at its table (an order between levels) and elsewhere (an
    area below that the edit breaks)."""
    prefix = hazard.form.section if hazard.area == NATION else f"overrides.{hazard.area}.{hazard.form.section}"
    paths = {cell.path for cell in hazard.cells}
    at_field, at_table, elsewhere = {}, [], []
    for problem in problems:
        path = problem.key.removeprefix(prefix + ".") if problem.key.startswith(prefix + ".") else None
        if problem.key in paths:  # a value that could not be read
            at_field.setdefault(problem.key, []).append(problem)
        elif path in paths:
            at_field.setdefault(path, []).append(problem)
        elif problem.key == prefix or path is not None:
            at_table.append(problem)
        else:
            elsewhere.append(problem)
    return at_field, at_table, elsewhere
