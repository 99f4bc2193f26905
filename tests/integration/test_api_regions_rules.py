"""Regions, alerts, manual decisions, subsidies, rules and the audit log through the API, with every
role against own and foreign regions."""

from __future__ import annotations

import pytest

from warning.cycle import run_cycle
from warning.sources import open_source

OWN, FOREIGN = "220102", "220802"  # nanguan's county, and another Jilin county (cold-wave orange)
USERS = ("root", "jilin", "beijing", "nanguan", "watcher")
SEE = {"root": {OWN, FOREIGN}, "jilin": {OWN, FOREIGN}, "beijing": set(), "nanguan": {OWN}, "watcher": {OWN, FOREIGN}}
CHANGE = {"root": {OWN, FOREIGN}, "jilin": {OWN, FOREIGN}, "beijing": set(), "nanguan": {OWN}, "watcher": set()}
ORANGE_COUNTIES = 11


@pytest.fixture
def demo(api):
    run_cycle(api.rt, open_source(api.rt, "demo"), deliver=False)
    return api


def all_items(call, path, who) -> list[dict]:
    items, page = [], 1
    while True:
        answer = call("GET", f"{path}{'&' if '?' in path else '?'}page={page}&per_page=200", who)
        assert answer.status_code == 200, answer.json
        items += answer.json["items"]
        if len(items) >= answer.json["total"]:
            return items
        page += 1


@pytest.mark.parametrize("who", USERS)
def test_the_region_list_holds_exactly_the_callers_area_with_current_levels(demo, who):
    regions = {r["code"]: r for r in all_items(demo, "/api/v1/regions?province=220000", who)}
    jilin = {code for code in demo.rt.config.region_codes if code.startswith("22")}
    assert set(regions) == {"beijing": set(), "nanguan": {OWN}}.get(who, jilin)
    if OWN in regions:
        own_levels = {a["level"] for a in all_items(demo, f"/api/v1/alerts?status=open&region={OWN}", "root")}
        highest = max(own_levels, key=("blue", "yellow", "orange", "red").index)
        assert regions[OWN]["level"] == highest and regions[OWN]["province"]["name"] == "吉林省"
        assert regions[OWN]["open_alerts"] == len(all_items(demo, f"/api/v1/alerts?status=open&region={OWN}", "root"))
    if who == "beijing":
        own = all_items(demo, "/api/v1/regions", who)
        assert own and all(r["code"].startswith("11") for r in own)


def test_the_region_list_filters_by_level(demo):
    every = all_items(demo, "/api/v1/regions", "root")
    assert len(every) == len(demo.rt.config.region_codes)
    for level in ("orange", "none"):
        chosen = all_items(demo, f"/api/v1/regions?level={level}", "root")
        assert chosen == [r for r in every if r["level"] == (None if level == "none" else level)] != []
    assert demo("GET", "/api/v1/regions?level=purple", "root").status_code == 422


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("code", [OWN, FOREIGN])
def test_a_regions_detail_and_alert_history_only_in_scope(demo, who, code):
    answer = demo("GET", f"/api/v1/regions/{code}", who)
    if code not in SEE[who]:
        assert answer.status_code == 403 and answer.content_type == "application/problem+json"
        return
    assert answer.status_code == 200
    body = answer.json
    assert body["thresholds"]["cold_wave.orange.drop_c"] == 12
    assert body["thresholds"]["price_linkage.floor_yuan"] == 10  # Jilin's own override
    assert body["alerts"] and all(a["region"]["code"] == code for a in body["alerts"])


def test_unknown_regions_answer_404(demo):
    assert demo("GET", "/api/v1/regions/999999", "root").status_code == 404


@pytest.mark.parametrize("who", USERS)
def test_alerts_are_filtered_and_limited_to_the_callers_area(demo, who):
    every = all_items(demo, "/api/v1/alerts?status=open", "root")
    assert every and all(a["region"]["code"].startswith("22") for a in every)  # the demo's cold wave is in Jilin
    expected = {"beijing": [], "nanguan": [a for a in every if a["region"]["code"] == OWN]}.get(who, every)
    seen = all_items(demo, "/api/v1/alerts?status=open", who)
    assert [a["alert_id"] for a in seen] == [a["alert_id"] for a in expected] and (seen != []) == (who != "beijing")
    orange = all_items(demo, "/api/v1/alerts?status=open&hazard=cold_wave&level=orange&region=220000", who)
    assert len(orange) == (ORANGE_COUNTIES if who in ("root", "jilin", "watcher") else 0)
    assert all(a["level"] == "orange" for a in orange)
    in_prefecture = all_items(demo, "/api/v1/alerts?region=220800", who)
    assert all(a["region"]["prefecture"]["code"] == "220800" for a in in_prefecture)


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("code", [OWN, FOREIGN])
def test_manual_raise_and_clear_only_where_the_caller_may_change(demo, who, code):
    raised = demo("POST", "/api/v1/alerts/manual", who, json={
        "region_code": code, "hazard": "frost", "action": "raise", "level": "yellow", "hours": 12,
        "reason": "ground frost reported by the county's own station"})  # frost rules are off in January
    if code not in CHANGE[who]:
        assert raised.status_code == 403
        return
    assert raised.status_code == 201 and raised.json["actor"] == who
    listed = all_items(demo, "/api/v1/alerts/manual", "root")
    assert [d["id"] for d in listed] == [raised.json["id"]]
    run_cycle(demo.rt, open_source(demo.rt, "demo"), deliver=False)
    alerts = all_items(demo, f"/api/v1/alerts?status=open&hazard=frost&region={code}", who)
    assert [a["level"] for a in alerts] == ["yellow"]
    if who != "root":
        assert demo("DELETE", f"/api/v1/alerts/manual/{raised.json['id']}", "watcher").status_code == 403
    cleared = demo("DELETE", f"/api/v1/alerts/manual/{raised.json['id']}", who)
    assert cleared.status_code == 200 and cleared.json["cleared_by"] == who
    assert all_items(demo, "/api/v1/alerts/manual", "root") == []
    actions = [e["action"] for e in all_items(demo, "/api/v1/audit?action=alert.", "root")]
    assert actions == ["alert.raise.clear", "alert.raise"]


def test_a_manual_decision_with_bad_fields_names_each_one(demo):
    answer = demo("POST", "/api/v1/alerts/manual", "root", json={
        "region_code": OWN, "hazard": "heat", "action": "raise", "level": "purple", "hours": 1000, "reason": ""})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json["errors"]}
    assert {"hazard", "level", "hours"} <= fields
    assert demo("POST", "/api/v1/alerts/manual", "root", json={"region_code": OWN, "action": "hide"}).status_code == 422
    assert demo("POST", "/api/v1/alerts/manual", "root", json=[1]).status_code == 400


@pytest.mark.parametrize("who", USERS)
def test_subsidies_are_listed_in_the_callers_area(demo, who):
    rows = all_items(demo, "/api/v1/subsidies", who)
    if who == "beijing":  # decided nationwide, each province sees its own
        assert rows and all(r["region"]["code"].startswith("11") and not r["started"] for r in rows)
        return
    if who == "nanguan":  # Changchun's own index (+5.8 %) does not start it
        assert [(r["region"]["code"], r["started"]) for r in rows] == [(OWN, False)]
        return
    started = all_items(demo, "/api/v1/subsidies?started=true", who)
    assert started and all(r["started"] and r["total_yuan"] > 0 and r["region"]["code"].startswith("22")
                           for r in started)
    not_started = all_items(demo, "/api/v1/subsidies?started=false&region=220100", who)
    assert not_started and all(not r["started"] and r["region"]["prefecture"]["code"] == "220100" for r in not_started)
    assert len(started) + len(all_items(demo, "/api/v1/subsidies?started=false", who)) == len(rows)
    assert demo("GET", "/api/v1/subsidies?started=maybe", who).status_code == 422


STRICTER = ("orange: {drop_c: 12,", "orange: {drop_c: 14,")


def edited(demo) -> str:
    text = demo("GET", "/api/v1/rules", "watcher").json["text"]
    assert STRICTER[0] in text
    return text.replace(*STRICTER)


def test_rules_are_validated_with_every_problem_named(demo):
    good = demo("POST", "/api/v1/rules/validate", "nanguan", json={"text": edited(demo)})
    assert good.status_code == 200 and good.json["valid"]
    bad = demo("POST", "/api/v1/rules/validate", "nanguan", json={"text": edited(demo).replace(
        "yellow: {drop_c: 10,", "yellow: {drop_c: -10,").replace("wind_level_min: 5}", "wind_level_min: 50}")})
    assert bad.status_code == 422
    fields = " ".join(e["field"] for e in bad.json["errors"])
    assert "cold_wave.yellow.drop_c" in fields and "cold_wave.blue.wind_level_min" in fields
    broken = demo("POST", "/api/v1/rules/validate", "root", json={"text": "cold_wave: [unclosed"})
    assert broken.status_code == 422 and "line 1" in broken.json["errors"][0]["message"]


@pytest.mark.parametrize("who", USERS)
def test_only_admins_preview_and_change_rules(demo, who):
    before, text = demo("GET", "/api/v1/rules", who).json["version"], edited(demo)
    preview = demo("POST", "/api/v1/rules/preview", who, json={"text": text, "days": 7})
    change = demo("PUT", "/api/v1/rules", who, json={"text": text, "reason": "provincial notice No. 7"})
    if who != "root":
        assert (preview.status_code, change.status_code) == (403, 403)
        assert demo("GET", "/api/v1/rules", who).json["version"] == before  # nothing changed
        return
    assert preview.status_code == 200 and preview.json["totals"]["lowered"] == ORANGE_COUNTIES
    assert change.status_code == 200
    now = demo("GET", "/api/v1/rules", "watcher").json
    assert now["version"] == change.json["version"] and now["text"] == text
    assert "# Threshold rules." in now["text"]  # the text as written, comments and all
    versions = all_items(demo, "/api/v1/rules/versions", "watcher")
    assert (versions[0]["actor"], versions[0]["reason"]) == ("root", "provincial notice No. 7")
    entry = all_items(demo, "/api/v1/audit?action=rules.", "watcher")[0]
    assert (entry["actor"], entry["after"]["version"], entry["reason"]) == ("root", now["version"], "provincial notice No. 7")
    run_cycle(demo.rt, open_source(demo.rt, "demo"), deliver=False)
    assert all_items(demo, "/api/v1/alerts?status=open&hazard=cold_wave&level=orange", "root") == []


def test_a_rule_change_needs_a_reason_and_valid_rules_and_then_stores_nothing(demo):
    before = demo("GET", "/api/v1/rules", "root").json["version"]
    no_reason = demo("PUT", "/api/v1/rules", "root", json={"text": edited(demo), "reason": " "})
    invalid = demo("PUT", "/api/v1/rules", "root", json={"text": "cold_wave: {}", "reason": "test"})
    assert (no_reason.status_code, invalid.status_code) == (422, 422)
    assert no_reason.json["errors"][0]["field"] == "reason"
    assert demo("GET", "/api/v1/rules", "root").json["version"] == before
    assert all_items(demo, "/api/v1/audit?action=rules.version&actor=root", "root") == []
    days = demo("POST", "/api/v1/rules/preview", "root", json={"text": edited(demo), "days": 400})
    assert days.status_code == 422 and days.json["errors"][0]["field"] == "days"


@pytest.mark.parametrize("who, allowed", [("root", True), ("watcher", True), ("jilin", False), ("nanguan", False)])
def test_the_audit_log_is_for_admins_and_viewers(demo, who, allowed):
    answer = demo("GET", "/api/v1/audit", who)
    assert answer.status_code == (200 if allowed else 403)
    if allowed:
        assert {"user.create", "token.create"} <= {e["action"] for e in answer.json["items"]}


def test_nul_characters_are_refused_before_they_reach_the_database(api):
    """PostgreSQL text cannot hold NUL; found by the schemathesis run."""
    for answer in (api("GET", "/api/v1/audit?actor=ro%00ot", "root"),
                   api("POST", "/api/v1/rules/validate", "root", json={"text": "cold_wave:\u0000"}),
                   api("GET", "/api/v1/alerts?page=9223372036854775808", "root"),
                   api("DELETE", "/api/v1/alerts/manual/9223372036854775808", "root")):
        assert answer.status_code in (400, 404, 422) and answer.content_type == "application/problem+json"
