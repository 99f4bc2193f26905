"""Where a notification may go: http(s) only, and no private network unless allowed."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    pass


def check_url(url: str, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` is an http(s) URL whose host resolves to public addresses."""
    parts = check_form(url)
    if not allow_private:
        refuse_private(parts.hostname, lookup(parts.hostname, parts.port or 443))


def check_form(url: str):
    """The URL's parts, if it is an http(s) URL without credentials; else UnsafeTarget."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(f"not an http(s) URL: {redact(url)!r}")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed; use the signing secret")
    return parts


def lookup(host: str, port: int) -> list[tuple]:
    """The host's TCP addresses (getaddrinfo's answers); UnsafeTarget when it does not resolve."""
    try:
        return socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise UnsafeTarget(f"host {host!r} does not resolve: {error}") from None


def refuse_private(host: str, addresses: list[tuple]) -> None:
    for info in addresses:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise UnsafeTarget(f"host {host!r} resolves to non-public address {address}; "
                               "set COLDWARN_ALLOW_PRIVATE_TARGETS=1 to allow it")


def redact(url: str) -> str:
    """The URL with its query values hidden: robot URLs carry their access key there."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in parts.query.split("&"))
    return parts._replace(query=query).geturl()


def scrub(text: str, url: str) -> str:
    """`text` (an error that may quote the URL) with the URL's query values removed."""
    for pair in urlsplit(url).query.split("&"):
        value = pair.split("=", 1)[1] if "=" in pair else ""
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text
