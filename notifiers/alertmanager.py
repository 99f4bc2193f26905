"""Alerts in the body Prometheus Alertmanager's webhook receiver sends (payload version 4), so the
bridges and incident tools people already run for Alertmanager (DingTalk/WeCom bridges, on-call
tools) take coldwarn's alerts unchanged. Signed like every webhook (see notifiers.webhook).

Fields as documented at https://prometheus.io/docs/alerting/latest/configuration/#webhook_config:
version, groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations,
externalURL, alerts[] {status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint}.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from notifiers import jsontext
from notifiers.base import Message
from notifiers.webhook import BATCH_TYPE

VERSION = "4"
SEVERITY = {"blue": "info", "yellow": "warning", "orange": "major", "red": "critical"}  # for tools that sort by it
WORDS = {"zh": "{region} {hazard}{level}预警", "en": "{level} {hazard} warning for {region}"}


def alerts_in(message: Message) -> list[Message]:
    """The alert events a message carries: itself, or each event of a batch."""
    if message.type != BATCH_TYPE:
        return [message]
    return [Message(id=e["id"], type=e["type"], timestamp=message.timestamp, data=e["data"])
            for e in message.data["events"]]


def alert_of(event: Message, lang: str, console_url: str) -> dict:
    """One Alertmanager alert. Its fingerprint stays the same while the alert changes level or stage
    (region, hazard and episode name it), so a receiver updates one incident rather than opening another."""
    data = event.data
    region = data["region"]
    resolved = event.type == "alert.resolved" or data["status"] == "resolved"
    names = {"region": f"{region['province']['name']}{region['prefecture']['name']}{region['name']}"
             if lang == "zh" else region["name"],
             "hazard": data["hazard_name"][lang], "level": data["level_name"][lang]}
    identity = f"{region['code']}/{data['hazard']}/{data['episode']}"
    return {
        "status": "resolved" if resolved else "firing",
        "labels": {"alertname": data["hazard"], "region": region["code"], "province": region["province"]["code"],
                   "hazard": data["hazard"], "level": data["level"], "stage": data["stage"],
                   "severity": SEVERITY[data["level"]]},
        "annotations": {"summary": WORDS[lang].format(**names), "description": data["evidence"][lang]},
        "startsAt": data["onset"],
        # firing: when the forecast says it ends; resolved: when coldwarn resolved it
        "endsAt": rfc3339(event.timestamp) if resolved else data["ends"],
        "generatorURL": f"{console_url.rstrip('/')}/regions/{region['code']}",
        "fingerprint": hashlib.sha256(identity.encode()).hexdigest()[:16],
    }


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def common(dicts: list[dict]) -> dict:
    """The pairs every one of them has (Alertmanager's commonLabels and commonAnnotations)."""
    return {k: v for k, v in dicts[0].items() if all(d.get(k) == v for d in dicts[1:])}


def alertmanager_payload(message: Message, receiver: str, lang: str, console_url: str) -> dict:
    """One POST's body: the alerts of one message, or of a batch (the subscription's `batch` groups them)."""
    alerts = [alert_of(event, lang, console_url) for event in alerts_in(message)]
    labels = common([a["labels"] for a in alerts])
    return {
        "version": VERSION,
        "groupKey": f'{{}}:{{receiver="{receiver}"}}',  # one group per subscription
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": {k: v for k, v in labels.items() if k == "alertname"},
        "commonLabels": labels,
        "commonAnnotations": common([a["annotations"] for a in alerts]),
        "externalURL": console_url.rstrip("/"),
        "alerts": alerts,
    }


def alertmanager_body(message: Message, receiver: str, lang: str, console_url: str) -> bytes:
    return jsontext.dumps(alertmanager_payload(message, receiver, lang, console_url), sort_keys=True)
