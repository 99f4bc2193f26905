"""Words for what the console shows from stored codes: audit actions, feeds, reasons the system
itself wrote. Chinese and English, so a page in one language never shows the other."""

from __future__ import annotations

from triggers.levels import LEVEL_NAMES

ACTIONS = {
    "alert.raise": ("手动发布预警", "raised an alert by hand"),
    "alert.stand_down": ("手动解除预警", "stood an alert down by hand"),
    "alert.raise.clear": ("撤销手动发布", "cleared a manual raise"),
    "alert.stand_down.clear": ("撤销手动解除", "cleared a manual stand-down"),
    "caseload.import": ("导入救助对象名册", "imported a caseload"),
    "shelters.import": ("导入避寒场所", "imported cold shelters"),
    "cpi.set": ("录入物价指数", "entered CPI figures"),
    "outbox.replay": ("重发搁置消息", "replayed parked messages"),
    "rules.version": ("启用预警规则版本", "put a rule version in force"),
    "subscription.add": ("新增订阅", "added a subscription"),
    "subscription.remove": ("删除订阅", "removed a subscription"),
    "subscription.rotate": ("更换订阅签名密钥", "rotated a subscription's secret"),
    "task.status": ("更新任务状态", "moved a task on"),
    "task.outcomes": ("报送工作量", "reported a task's figures"),
    "token.create": ("创建接口令牌", "created an API token"),
    "token.revoke": ("吊销接口令牌", "revoked an API token"),
    "user.create": ("创建用户", "created a user"),
}
FEEDS = {"forecast": ("天气预报", "forecast"), "ensemble": ("集合预报", "ensemble forecast"),
         "observed": ("实况（再分析）", "observed weather (reanalysis)"),
         "warnings": ("官方预警", "official warnings"),
         "cpi": ("物价指数", "CPI")}
SOURCES = {"config": ("配置文件", "config file"), "api": ("接口", "API"), "cli": ("命令行", "command line"),
           "console": ("控制台", "console")}
SYSTEM_REASONS = {"in force at this cycle": ("本轮运行时启用", "in force at this cycle"),
                  # how figures were reported (the audit entry's reason)
                  "console": ("在控制台报送", "on the console"), "api": ("通过接口报送", "through the API"),
                  "reply": ("通过聊天回复报送", "by a chat reply"), "demo": ("演示数据", "demo data")}


def word(table: dict[str, tuple[str, str]], code: str | None, lang: str) -> str:
    """The code in words, or the code itself where no words are known (a new action shows, not vanishes)."""
    if code is None:
        return ""
    words = table.get(code)
    return words[0 if lang == "zh" else 1] if words else code


def changes(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """An audit entry's change as (field, before, after) for each field that differs."""
    before, after = before or {}, after or {}
    return [(field, shown(before.get(field)), shown(after.get(field)))
            for field in sorted(set(before) | set(after)) if before.get(field) != after.get(field)]


def shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# What is wrong with a value, by the kind of problem (pydantic's error types and the rules' own)
PROBLEMS = {
    "greater_than": ("须大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("须不小于 {ge}", "must be at least {ge}"),
    "less_than": ("须小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("须不大于 {le}", "must be at most {le}"),
    "literal_error": ("须为以下之一：{expected}", "must be one of {expected}"),
    "not_a_choice": ("须为以下之一：{expected}", "must be one of {expected}"),
    "not_a_number": ("请填写数字", "enter a number"),
    "not_an_integer": ("请填写整数", "enter a whole number"),
    "required": ("全国值必须填写", "the national value is required"),
    "float_parsing": ("请填写数字", "enter a number"), "float_type": ("请填写数字", "enter a number"),
    "int_parsing": ("请填写整数", "enter a whole number"), "int_type": ("请填写整数", "enter a whole number"),
    "int_from_float": ("请填写整数", "enter a whole number"),
    "bool_parsing": ("须为 true 或 false", "must be true or false"),
    "bool_type": ("须为 true 或 false", "must be true or false"),
    "missing": ("缺少此项", "is missing"),
    "extra_forbidden": ("不是可设置的项（拼写有误？）", "is not a setting (a typo?)"),
    "levels_order": ("{higher}级须比{lower}级更严格：每项阈值都不比{lower}级宽松，且至少一项不同",
                     "the {higher} level must be stricter than {lower}: no threshold looser, at least one different"),
    "levels_listed": ("各级须按蓝、黄、橙、红的顺序排列", "levels must be listed blue, yellow, orange, red"),
    "stages_order": ("行动阶段的成员占比须不低于准备阶段，提前时段须不长于准备阶段",
                     "act needs at least prepare's share of members, within at most its lead time"),
    "raised_above_inherited": ("地方只可调低，不得高于上级的 {limit}", "may be lowered locally, never raised above {limit}"),
    "unknown_region": ("未知的区划代码", "unknown region code"),
    "not_mapping": ("须为键值映射", "must be a mapping"),
}
INVALID = ("取值无效", "not a valid value")


def problem_words(kind: str, context: dict, lang: str) -> str:
    """A problem in the reader's language; a kind without words is said as an invalid value."""
    template = PROBLEMS.get(kind, INVALID)[0 if lang == "zh" else 1]
    words = {key: LEVEL_NAMES[value][lang] if key in ("lower", "higher") and value in LEVEL_NAMES
             else int(value) if isinstance(value, float) and value.is_integer() else value
             for key, value in context.items()}
    expected = context.get("expected")
    if isinstance(expected, tuple):
        words["expected"] = ("、" if lang == "zh" else ", ").join(str(choice) for choice in expected)
    elif isinstance(expected, str) and lang == "zh":
        words["expected"] = expected.replace(" or ", " 或 ")
    try:
        return template.format(**words)
    except (KeyError, IndexError):
        return INVALID[0 if lang == "zh" else 1]
