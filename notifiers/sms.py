"""A generic SMS gateway: one HTTP POST per message, its JSON body and headers built from a template.

Gateways differ in field names, so the subscription gives the shape. In every string of the
template, {to} is the recipients joined by commas, {text} the short message, {id} the message id
(the same on every attempt, for gateways that drop duplicates) and {secret} the subscription's
secret; a string that is exactly "{to_list}" becomes the list of recipients.
"""

from __future__ import annotations

import json

from notifiers.base import Message, Outcome
from notifiers.digest import digest
from notifiers.http import HttpSession, post

DEFAULT_BODY = {"to": "{to_list}", "text": "{text}", "id": "{id}"}
SMS_MAX_CHARS = 140  # two segments of 70 Chinese characters; longer texts cost more and split badly
SMS_PLACEHOLDERS = {"to", "text", "id", "secret", "to_list"}


def fill(template, values: dict[str, str], to: list[str]):
    """The template with placeholders replaced, walking nested lists and objects."""
    if isinstance(template, dict):
        return {key: fill(value, values, to) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values, to) for value in template]
    if template == "{to_list}":
        return list(to)
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
    return template


class SmsGateway:
    def __init__(self, url: str, to: list[str], session: HttpSession, body: dict | None = None,
                 headers: dict[str, str] | None = None, secret: str = "", timeout_s: float = 10.0,
                 allow_private: bool = False, lang: str = "zh"):
        self.url, self.to, self.session = url, to, session
        self.body, self.headers, self.secret = body or DEFAULT_BODY, headers or {}, secret
        self.timeout_s, self.allow_private, self.lang = timeout_s, allow_private, lang

    def notify(self, message: Message) -> Outcome:
        values = {"to": ",".join(self.to), "text": digest(message.type, message.data, self.lang).short(SMS_MAX_CHARS),
                  "id": message.id, "secret": self.secret}
        body = json.dumps(fill(self.body, values, self.to), ensure_ascii=False).encode()
        headers = {"content-type": "application/json; charset=utf-8"} | fill(self.headers, values, self.to)
        return post(self.session, self.url, body, headers, self.timeout_s, self.allow_private)[0]
