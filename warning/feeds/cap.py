"""CAP 1.2 messages (OASIS; China's national warning system, GB/T 35965.1) -> the warnings frame.

Accepts one <alert> or any document holding several (an Atom or RSS feed of them), in the encoding
its XML declaration names (older Chinese systems send GB2312). Parsed with defusedxml: DOCTYPEs and
entities are refused. The regions of an <info> are the values of its <area><geocode>s whose
<valueName> names an administrative-division code (ADMINISTRATIVE_VALUE_NAMES): six digits (county,
prefecture xxxx00 or province xx0000) or twelve (the statistical code; its county part is used).
Nothing else in a message names a region: not a geocode of another scheme (a US SAME code), not a
<parameter>, not the identifier. Only cold-weather events are kept.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from warning.feeds import FeedRejected
from warning.feeds.qweather import timestamp
from warning.feeds.warnings import CODE_BY_NAME, COLOURS, WARNING_COLUMNS

NS = "{urn:oasis:names:tc:emergency:cap:1.2}"
MSG_TYPES = {"Alert": "alert", "Update": "update", "Cancel": "cancel"}
EVENT_NAMES = sorted(CODE_BY_NAME, key=len, reverse=True)  # 低温雨雪冰冻 before 低温
# <valueName>s taken as GB/T 2260 administrative-division codes, compared without case or spaces.
ADMINISTRATIVE_VALUE_NAMES = {"gb/t2260", "gb2260", "gbt2260", "行政区划代码", "行政区划编码", "行政区代码",
                              "区划代码", "adcode", "administrativedivisioncode"}
DIVISION_VALUE = re.compile(r"\d{6}(\d{6})?")
DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# What a declared Chinese encoding is read as: GB18030 contains GB2312 and GBK, and senders that
# declare GB2312 often write GBK characters (the rarer names of people and places).
WIDER_ENCODING = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030"}


def parse_cap(payload: bytes, source: str) -> pd.DataFrame:
    try:
        root = fromstring(xml_text(payload, source), forbid_dtd=True)
    except DefusedXmlException:
        raise FeedRejected(f"{source}: DOCTYPE and entities are not allowed in CAP") from None
    except ET.ParseError as error:
        raise FeedRejected(f"{source}: not well-formed XML: {error}") from None
    alerts = [root] if root.tag == f"{NS}alert" else list(root.iter(f"{NS}alert"))
    if not alerts:
        raise FeedRejected(f"{source}: no CAP 1.2 <alert> element (namespace {NS[1:-1]})")
    rows = []
    for index, alert in enumerate(alerts):
        rows += alert_rows(alert, f"{source}: alert {index}")
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)


def xml_text(payload: bytes, source: str) -> str:
    """The document decoded as it declares (a byte-order mark first, else UTF-8, XML's default)."""
    if payload.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared, codec = "UTF-16", "utf-16"
    else:
        found = DECLARED_ENCODING.match(payload[:512])
        declared = found.group(1).decode("ascii") if found else "UTF-8"
        codec = WIDER_ENCODING.get(declared.lower(), declared)
    try:
        text = payload.decode(codecs.lookup(codec).name)
    except LookupError:
        raise FeedRejected(f"{source}: unknown encoding {declared!r} in the XML declaration") from None
    except UnicodeDecodeError as error:
        raise FeedRejected(f"{source}: not valid {declared}: {error}") from None
    return text.lstrip("\ufeff")


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
        for code in region_codes(info):
            rows.append({"region_code": code, "warning_id": identifier, "source": "cap",
                         "event_code": CODE_BY_NAME[name], "event_name": name,
                         "severity": text(info, "severity", where, required=False).lower(), "colour": colour,
                         "msg_type": MSG_TYPES[msg_type], "supersedes": supersedes, "sent": sent,
                         "onset": timestamp(text(info, "onset", where, False) or None, f"{where}: <onset>"),
                         "expires": timestamp(text(info, "expires", where, False) or None, f"{where}: <expires>"),
                         "headline": headline or event})
    return rows


def region_codes(info) -> list[str]:
    """The administrative-division codes among the <area><geocode>s of an <info>, six digits each."""
    codes = []
    for geocode in info.iter(f"{NS}geocode"):
        name = text(geocode, "valueName", "", required=False)
        value = text(geocode, "value", "", required=False)
        if re.sub(r"\s", "", name).lower() in ADMINISTRATIVE_VALUE_NAMES and DIVISION_VALUE.fullmatch(value):
            codes.append(value[:6])
    return list(dict.fromkeys(codes))
