"""Every console page in Chinese has no English interface text, and in English no Chinese: what
is data — names of places, people, subscriptions, codes — is marked translate="no" (the HTML
attribute for content that is not to be translated) and left out, with a few technical terms."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.test_console_pages import browsers, site  # noqa: F401  (the fixture)
from warning.web import create_app

PAGES = ["/", "/report", "/?level=orange", "/regions/220102", "/regions/220102/sheet", "/rules", "/rules?section=cold_wave_grade&area=220100",
         "/rules?section=price_linkage&area=220000", "/rules?section=festival&area=320102", "/rules?area=no-such-area", "/rules/yaml", "/audit", "/deliveries",
         "/progress", "/caseload", "/subscriptions", "/no-such-page"]
TERMS = {"zh": {"coldwarn", "English", "UTC", "CSV", "Excel", "GBK", "UTF", "Webhook", "json", "cap",
                "alertmanager", "CPI", "YAML"},
         "en": {"中文"}}  # the language switch names the other language in its own words
FOREIGN = {"zh": r"[A-Za-z][A-Za-z_]{2,}", "en": r"[\u3400-\u9fff]+"}


def interface_text(page: str) -> str:
    """What a reader sees as the page's own words: no markup, no scripts or styles, nothing marked as data."""
    page = re.sub(r"(?s)<(script|style|textarea|title)[^>]*>.*?</\1>", " ", page)  # (a tab title repeats the heading)
    while True:  # innermost first: a translate="no" element holds no other element of its kind
        stripped = re.sub(r'(?s)<(\w+)[^>]*\btranslate="no"[^>]*>(?:(?!<\1[\s>]).)*?</\1>', " ", page)
        if stripped == page:
            break
        page = stripped
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_mixes_the_two_languages(site, lang):  # noqa: F811
    client = site("root")
    client.get(f"/?lang={lang}")
    for path in PAGES:
        assert_one_language(client.get(path), lang, path)
    visitor = create_app(site.rt).test_client()  # not logged in: the login page, and what a failed login says
    assert_one_language(visitor.get(f"/login?lang={lang}"), lang, "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', visitor.get("/login").get_data(as_text=True)).group(1)
    failed = visitor.post("/login", data={"csrf_token": token, "name": "root", "password": "not-the-password"})
    assert failed.status_code == 401
    assert_one_language(failed, lang, "/login (failed)")


def assert_one_language(answer, lang: str, path: str) -> None:
    text = interface_text(answer.get_data(as_text=True))
    foreign = set(re.findall(FOREIGN[lang], text)) - TERMS[lang]
    assert not foreign, f"{lang} {path}: {sorted(foreign)} in …{text[text.find(min(foreign)) - 80:][:160]}…"
