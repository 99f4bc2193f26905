"""Alert events as OASIS CAP 1.2 messages: Alert, Update (references the earlier ones), Cancel."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from notifiers.base import Message

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MSG_TYPES = {"alert.issued": "Alert", "alert.updated": "Update", "alert.resolved": "Cancel"}
SEVERITY = {"blue": "Minor", "yellow": "Moderate", "orange": "Severe", "red": "Extreme"}


def cap_time(moment: datetime, zone: str) -> str:
    """CAP's own form: seconds, and an explicit offset (never Z)."""
    return moment.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat()


def add(parent: ET.Element, name: str, text: str | None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def cap_body(message: Message, sender: str, references: list[tuple[str, datetime]], lang: str = "zh") -> bytes:
    """One CAP message for one alert event; `references`: earlier (identifier, sent) of the same alert."""
    data, zone = message.data, message.data["region"]["timezone"]
    ET.register_namespace("", NS)
    alert = ET.Element(f"{{{NS}}}alert")
    add(alert, "identifier", message.id)
    add(alert, "sender", sender)
    add(alert, "sent", cap_time(message.timestamp, zone))
    add(alert, "status", "Actual")
    add(alert, "msgType", MSG_TYPES[message.type])
    add(alert, "scope", "Public")
    if references and message.type != "alert.issued":
        add(alert, "references", " ".join(f"{sender},{identifier},{cap_time(sent, zone)}" for identifier, sent in references))
    info = add(alert, "info", None)
    add(info, "language", "zh-CN" if lang == "zh" else "en")
    add(info, "category", "Met")
    add(info, "event", f"{data['hazard_name'][lang]}{data['level_name'][lang]}" if lang == "zh"
        else f"{data['hazard_name'][lang]} {data['level_name'][lang]}")
    add(info, "urgency", "Past" if message.type == "alert.resolved" else "Immediate" if data["stage"] == "act" else "Expected")
    add(info, "severity", SEVERITY[data["level"]])
    add(info, "certainty", "Likely")
    code = add(info, "eventCode", None)
    add(code, "valueName", "coldwarn:hazard")
    add(code, "value", data["hazard"])
    add(info, "onset", cap_time(datetime.fromisoformat(data["onset"].replace("Z", "+00:00")), zone))
    add(info, "expires", cap_time(datetime.fromisoformat(data["ends"].replace("Z", "+00:00")), zone))
    add(info, "senderName", "coldwarn")
    add(info, "headline", f"{data['region']['name']}{data['hazard_name'][lang]}{data['level_name'][lang]}"
        if lang == "zh" else f"{data['region']['name']}: {data['hazard_name'][lang]} {data['level_name'][lang]}")
    add(info, "description", data["evidence"][lang])
    area = add(info, "area", None)
    add(area, "areaDesc", f"{data['region']['province']['name']}{data['region']['prefecture']['name']}{data['region']['name']}")
    geocode = add(area, "geocode", None)
    add(geocode, "valueName", "GB/T 2260")
    add(geocode, "value", data["region"]["code"])
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
