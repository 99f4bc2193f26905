"""Words for what the console shows from stored codes: audit actions, feeds, reasons the system
itself wrote. Chinese and English, so a page in one language never shows the other."""

from __future__ import annotations

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
    "token.create": ("创建接口令牌", "created an API token"),
    "token.revoke": ("吊销接口令牌", "revoked an API token"),
    "user.create": ("创建用户", "created a user"),
}
FEEDS = {"forecast": ("天气预报", "forecast"), "warnings": ("官方预警", "official warnings"),
         "cpi": ("物价指数", "CPI")}
SOURCES = {"config": ("配置文件", "config file"), "api": ("接口", "API"), "cli": ("命令行", "command line"),
           "console": ("控制台", "console")}
SYSTEM_REASONS = {"in force at this cycle": ("本轮运行时启用", "in force at this cycle")}


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
