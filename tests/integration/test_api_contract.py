"""The API reads strictly and answers as its document says: unknown parameters and values outside
their enum are 422 problems naming them, 405 carries Allow, pages link to each other (RFC 8288)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 422 and response.content_type == "application/problem+json", response.json
    return {e["field"]: e["message"] for e in response.json["errors"]}


@pytest.mark.parametrize("path, field", [
    ("/api/v1/alerts?limit=2", "limit"),  # not a parameter: was silently ignored, answering 50 rows
    ("/api/v1/regions?level=purple", "level"),  # outside its enum: was an empty page
    ("/api/v1/alerts?hazard=heat", "hazard"),
    ("/api/v1/regions/220102/tasks?status=open,finished", "status"),
    ("/api/v1/subsidies?started=maybe", "started"),
    ("/api/v1/job-runs?job=cycle&per_page=0", "per_page"),
    ("/api/v1/caseload?format=xlsx", "format"),  # an operation without parameters takes none
    ("/api/v1/alerts?page=1&page=2", "page"),
])
def test_a_parameter_the_operation_does_not_take_is_named_in_a_422(api, path, field):
    assert field in errors_of(api("GET", path, "root"))


def test_unknown_parameters_are_refused_only_after_the_token(api):
    assert api("GET", "/api/v1/alerts?limit=2").status_code == 401


def test_a_body_field_the_operation_does_not_read_is_named(api):
    answer = api("POST", "/api/v1/alerts/manual", "root", json={
        "region_code": "220102", "hazard": "cold_wave", "action": "raise", "level": "red", "reason": "drill",
        "severity": "high"})
    assert errors_of(answer) == {"severity": "not a field of this operation"}
    typed = api("POST", "/api/v1/alerts/manual", "root", json={
        "region_code": "220102", "hazard": "cold_wave", "action": "raise", "level": "red", "reason": "drill",
        "hours": "12"})  # JSON says a string: not taken as a number
    assert set(errors_of(typed)) == {"hours"}


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/alerts", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/api/v1/subscriptions", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("GET", "/api/v1/rules/validate", {"POST", "OPTIONS"}),
])
def test_a_method_the_path_does_not_take_is_405_with_allow(api, method, path, allowed):
    answer = api(method, path, "root")
    assert answer.status_code == 405 and answer.content_type == "application/problem+json"
    assert set(re.split(r",\s*", answer.headers["Allow"])) == allowed


def links(response) -> dict[str, dict]:
    """rel -> query of each RFC 8288 link in the Link header."""
    found = {}
    for target, rel in re.findall(r'<([^>]+)>;\s*rel="([^"]+)"', response.headers.get("Link", "")):
        found[rel] = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()} | {"path": urlsplit(target).path}
    return found


def test_pages_link_to_first_previous_next_and_last_keeping_the_filters(api):
    total = api("GET", "/api/v1/regions?province=220000&per_page=10", "root").json["total"]
    last = -(-total // 10)
    middle = api("GET", "/api/v1/regions?province=220000&per_page=10&page=2", "root")
    found = links(middle)
    assert {rel: q["page"] for rel, q in found.items()} == {"first": "1", "prev": "1", "next": "3", "last": str(last)}
    assert all(q["province"] == "220000" and q["per_page"] == "10" and q["path"] == "/api/v1/regions"
               for q in found.values())
    following = api("GET", f"/api/v1/regions?province=220000&per_page=10&page={found['next']['page']}", "root").json
    assert following["page"] == 3 and len(following["items"]) == 10
    final = links(api("GET", f"/api/v1/regions?province=220000&per_page=10&page={last}", "root"))
    assert "next" not in final and final["prev"]["page"] == str(last - 1)
    assert set(links(api("GET", "/api/v1/regions?province=220000&per_page=10", "root"))) == {"first", "next", "last"}


def test_every_answer_status_is_documented_with_its_schema(api):
    """A delivery's detail counts attempts as the list does (an integer) and lists them as `history`."""
    document = api("GET", "/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    detail = document["paths"]["/api/v1/deliveries/{message_id}"]["get"]["responses"]
    schema = document["components"]["schemas"][detail["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["attempts"]["type"] == "integer" and schema["properties"]["history"]["type"] == "array"
    assert set(detail) == {"200", "400", "401", "404", "422"}
    regions = document["paths"]["/api/v1/regions"]["get"]["parameters"]
    per_page = next(p for p in regions if p["name"] == "per_page")
    assert (per_page["schema"]["minimum"], per_page["schema"]["maximum"]) == (1, 200)  # the limit the server enforces
    assert next(p for p in regions if p["name"] == "level")["schema"]["anyOf"][0]["enum"] == [
        "blue", "yellow", "orange", "red", "none"]
