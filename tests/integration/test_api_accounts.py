"""The API's accounts and scope, and manual CPI entry through it (Flask test client, real database)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from triggers.validation import InvalidConfig
from warning.accounts import create_user, revoke_token
from warning.models import ApiToken, AuditEntry
from warning.web import create_app
from tests.conftest import PASSWORD

ENTRY = {"area_code": "220100", "month": "2025-12", "cpi_yoy": 2.1, "food_cpi_yoy": 6.1,
         "released_on": "2026-01-17", "reason": "survey office bulletin No. 12"}


def test_without_a_valid_token_the_api_answers_401_problem(api):
    client = create_app(api.rt).test_client()
    for headers in ({}, {"Authorization": "Bearer cw_not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/feed-runs", headers=headers)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_every_documented_operation_needs_a_token(api):
    client = create_app(api.rt).test_client()
    for path, operations in client.get("/api/v1/openapi.json").json["paths"].items():
        concrete = (path.replace("{code}", "220102").replace("{task_id}", "1").replace("{decision_id}", "1")
                    .replace("{name}", "x").replace("{message_id}", "msg_x"))
        for method in operations:
            response = client.open(concrete, method=method.upper(), json={})
            assert response.status_code == 401, f"{method.upper()} {path}"


@pytest.mark.parametrize("who, area, allowed", [
    ("root", "220100", True), ("root", "000000", True), ("jilin", "220100", True), ("jilin", "220000", True),
    ("jilin", "000000", False), ("beijing", "220100", False), ("nanguan", "220100", False),
    ("nanguan", "220102", True), ("watcher", "220100", False),
])
def test_entering_cpi_is_limited_to_the_callers_area(api, who, area, allowed):
    response = api("POST", "/api/v1/cpi/manual", who, json=ENTRY | {"area_code": area})
    assert response.status_code == (201 if allowed else 403), response.json
    if allowed:
        assert response.json["entered_by"] == who and response.json["food_cpi_yoy"] == 6.1


def test_an_entry_is_audited_and_listed_only_to_who_may_see_it(api):
    assert api("POST", "/api/v1/cpi/manual", "jilin", json=ENTRY).status_code == 201
    with api.rt.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "cpi.set")).one()
    assert (entry.actor, entry.target, entry.reason) == ("jilin", "cpi/220100/2025-12", ENTRY["reason"])
    assert api("GET", "/api/v1/cpi/manual", "watcher").json["total"] == 1
    assert api("GET", "/api/v1/cpi/manual", "jilin").json["items"][0]["area_code"] == "220100"
    assert api("GET", "/api/v1/cpi/manual", "beijing").json["total"] == 0


def test_bad_fields_are_named_in_the_problem(api):
    response = api("POST", "/api/v1/cpi/manual", "root",
                   json=ENTRY | {"month": "2025-13", "food_cpi_yoy": "lots", "reason": ""})
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    fields = {e["field"]: e["message"] for e in response.json["errors"]}
    assert fields["month"].startswith("must be a month YYYY-MM")
    assert fields["food_cpi_yoy"] == "Input should be a valid number"  # "lots"; and "6.1" would be refused too
    assert fields["reason"].startswith("must be said")
    assert api("POST", "/api/v1/cpi/manual", "root", data="not json").status_code == 400


def test_revoked_tokens_stop_working(api):
    assert api("GET", "/api/v1/feed-runs", "nanguan").status_code == 200
    with api.rt.sessions.begin() as session:
        assert revoke_token(session, api.tokens["nanguan"][:11], actor="test") == 1
    assert api("GET", "/api/v1/feed-runs", "nanguan").status_code == 401


def test_tokens_are_stored_hashed(api):
    with api.rt.sessions() as session:
        stored = {t.token_sha256 for t in session.scalars(select(ApiToken))}
    assert not any(token in stored or token[3:] in stored for token in api.tokens.values())


@pytest.mark.parametrize("name, role, region, problem", [
    ("x", "admin", None, "name: 2-100"), ("ok-name", "province", "220100", "needs a province code"),
    ("ok-name", "county", "220000", "needs a county code"), ("ok-name", "admin", "220000", "not limited"),
    ("ok-name", "admin", None, "password: at least 12"), ("root", "admin", None, "root exists already"),
])
def test_user_creation_is_validated(api, name, role, region, problem):
    password = "short" if "password" in problem else PASSWORD
    with pytest.raises(InvalidConfig) as caught:
        with api.rt.sessions.begin() as session:
            create_user(session, name, role, region, password, api.rt.config.area_codes, actor="test")
    assert any(problem in p for p in caught.value.problems)


def test_pagination_and_unknown_paths_answer_problems(api):
    assert api("GET", "/api/v1/feed-runs?per_page=500", "root").status_code == 422
    assert api("GET", "/api/v1/nothing-here", "root").content_type == "application/problem+json"
    assert api("GET", "/api/v1/openapi.json").json["openapi"].startswith("3.")


def test_the_openapi_document_is_valid_and_describes_every_route(api):
    from openapi_spec_validator import validate
    document = api("GET", "/api/v1/openapi.json").json
    validate(document)
    app = api.client.application
    import re
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
