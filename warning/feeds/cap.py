"""CAP 1.2 messages (OASIS; China's national warning system, GB/T 35965.1) -> the warnings frame.

Accepts one <alert> or any document holding several (an Atom or RSS feed of them). The region is
the six-digit code in an <area><geocode>, else the first six digits of the identifier (China's
national identifiers start with the issuing area's code). Only cold-weather events are kept.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from warning.feeds import FeedRejected
from warning.feeds.qweather import timestamp
from warning.feeds.warnings import CODE_BY_NAME, COLOURS, WARNING_COLUMNS

NS = "{urn:oasis:names:tc:emergency:cap:1.2}"
MSG_TYPES = {"Alert": "alert", "Update": "update", "Cancel": "cancel"}
EVENT_NAMES = sorted(CODE_BY_NAME, key=len, reverse=True)  # 低温雨雪冰冻 before 低温


def parse_cap(payload: bytes, source: str) -> pd.DataFrame:
    if b"<!DOCTYPE" in payload[:4096].upper() or b"<!ENTITY" in payload.upper():
        raise FeedRejected(f"{source}: DOCTYPE and entities are not allowed in CAP")
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as error:
        raise FeedRejected(f"{source}: not well-formed XML: {error}") from None
    alerts = [root] if root.tag == f"{NS}alert" else list(root.iter(f"{NS}alert"))
    if not alerts:
        raise FeedRejected(f"{source}: no CAP 1.2 <alert> element (namespace {NS[1:-1]})")
    rows = []
    for index, alert in enumerate(alerts):
        rows += alert_rows(alert, f"{source}: alert {index}")
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)


def text(element, name: str, where: str, required: bool = True) -> str:
    found = element.find(f"{NS}{name}")
    if found is None or not (found.text or "").strip():
        if required:
            raise FeedRejected(f"{where}: <{name}> missing")
        return ""
    return found.text.strip()


def alert_rows(alert, where: str) -> list[dict]:
    identifier = text(alert, "identifier", where)
    msg_type = text(alert, "msgType", where)
    if msg_type not in MSG_TYPES:
        return []  # Ack and Error messages carry no warning
    supersedes = [ref.split(",")[1] for ref in text(alert, "references", where, required=False).split()
                  if ref.count(",") == 2]
    sent = timestamp(text(alert, "sent", where), f"{where}: <sent>", required=True)
    rows = []
    for info in alert.iter(f"{NS}info"):
        event = text(info, "event", where)
        headline = text(info, "headline", where, required=False)
        name = next((n for n in EVENT_NAMES if n in event or n in headline), None)
        if name is None:
            continue
        colour = next((COLOURS[c] for c in ("红色", "橙色", "黄色", "蓝色") if c in event + headline), "")
        for code in region_codes(info, identifier):
            rows.append({"region_code": code, "warning_id": identifier, "source": "cap",
                         "event_code": CODE_BY_NAME[name], "event_name": name,
                         "severity": text(info, "severity", where, required=False).lower(), "colour": colour,
                         "msg_type": MSG_TYPES[msg_type], "supersedes": supersedes, "sent": sent,
                         "onset": timestamp(text(info, "onset", where, False) or None, f"{where}: <onset>"),
                         "expires": timestamp(text(info, "expires", where, False) or None, f"{where}: <expires>"),
                         "headline": headline or event})
    return rows


def region_codes(info, identifier: str) -> list[str]:
    codes = [value.text.strip()[:6] for value in info.iter(f"{NS}value")
             if value.text and re.fullmatch(r"\d{6}(\d{6})?", value.text.strip())]
    if not codes and re.match(r"\d{6}", identifier):
        codes = [identifier[:6]]
    return list(dict.fromkeys(codes))
