"""E-mail over SMTP: the digest as text and HTML alternatives of one message."""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from notifiers.base import DELIVERED, PERMANENT, RETRY, Message, Outcome, truncate
from notifiers.digest import WORDS, digest


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25
    security: str = "starttls"  # none | starttls | ssl
    username: str = ""
    password: str = ""
    sender: str = "coldwarn@localhost"


def recipients_of(url: str) -> list[str]:
    """The addresses of a `mailto:a@x,b@y` URL (RFC 6068)."""
    return [address.strip() for address in url.removeprefix("mailto:").split("?")[0].split(",") if address.strip()]


def compose(message: Message, server: SmtpServer, to: list[str], lang: str) -> EmailMessage:
    summary = digest(message.type, message.data, lang)
    mail = EmailMessage()
    mail["Subject"] = summary.title
    mail["From"], mail["To"] = server.sender, ", ".join(to)
    mail["Date"] = format_datetime(message.timestamp)
    # the same Message-ID on every attempt, so a mail system can drop a duplicate
    mail["Message-ID"] = f"<{message.id}@coldwarn>"
    mail["X-Coldwarn-Event"] = message.type
    mail.set_content(summary.text(WORDS[lang]["sep"]))
    mail.add_alternative(summary.html(), subtype="html")
    return mail


class EmailNotifier:
    def __init__(self, server: SmtpServer, to: list[str], timeout_s: float = 10.0, lang: str = "zh"):
        self.server, self.to, self.timeout_s, self.lang = server, to, timeout_s, lang

    def notify(self, message: Message) -> Outcome:
        if not self.server.host:
            return Outcome(PERMANENT, error="no SMTP server configured (delivery.smtp.host)")
        mail = compose(message, self.server, self.to, self.lang)
        started = time.monotonic()
        try:
            with self.connect() as smtp:
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            return self.failed(started, PERMANENT, None, f"all recipients refused: {sorted(error.recipients)}")
        except smtplib.SMTPResponseException as error:
            status = RETRY if 400 <= error.smtp_code < 500 else PERMANENT
            return self.failed(started, status, error.smtp_code, f"SMTP {error.smtp_code}: {error.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as error:  # refused connection, timeout, TLS, dropped line
            return self.failed(started, RETRY, None, f"{type(error).__name__}: {error}")
        latency_ms = (time.monotonic() - started) * 1000
        note = f"refused by the server for {sorted(refused)}" if refused else ""
        return Outcome(DELIVERED, 250, latency_ms, note)

    def connect(self) -> smtplib.SMTP:
        server = self.server
        if server.security == "ssl":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout_s,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout_s)
        try:
            if server.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    @staticmethod
    def failed(started: float, status: str, code: int | None, error: str) -> Outcome:
        return Outcome(status, code, (time.monotonic() - started) * 1000, truncate(error))
