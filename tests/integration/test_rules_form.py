"""The rules as a form: an area's inherited values with where they come from, an override written
only where it differs (comments of rules.yaml kept), each problem at its field in Chinese, and the
same preview and save as the YAML view."""

from __future__ import annotations

import re

import pytest
import yaml
from sqlalchemy import func, select

from tests.integration.test_console_pages import browsers, csrf, text_of
from warning.cycle import run_cycle
from warning.models import AuditEntry, RuleVersion
from warning.sources import open_source

JILIN, CHANGCHUN, NANGUAN = "220000", "220100", "220102"
# The form works on rules.yaml; the database only records versions, as for the YAML editor (whose
# saving is tested on both databases): SQLite is enough here.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def site(api):
    run_cycle(api.rt, open_source(api.rt, "demo"), deliver=False)
    return browsers(api)


def cell(page: str, path: str) -> dict:
    """What the form shows for one value: the box's own entry, its placeholder, origin and problems."""
    box = re.search(rf'<(?:input|select)[^>]*name="v\.{re.escape(path)}"(?P<attrs>[^>]*)>(?P<after>.*?)</td>', page, re.S)
    assert box, path
    attrs, after = box.group("attrs"), box.group("after")
    found = {key: re.search(rf'{key}="([^"]*)"', attrs) for key in ("value", "placeholder")}
    if box.group(0).startswith("<select"):  # what a select holds is its selected option, or "" (inherit)
        found["value"] = re.search(r'<option value="([^"]*)" selected', after) or re.search(r'()', "")
    origin = re.search(r'data-origin="(\d+)">(.*?)</span>\s*(?:<span class="field-problem"|$)', after, re.S)
    return {key: m.group(1) if m else None for key, m in found.items()} | {
        "origin": origin.group(1) if origin else None,
        "origin_text": re.sub(r"<[^>]+>|\s+", " ", origin.group(2)).strip() if origin else None,
        "problems": re.findall(r'class="field-problem" role="alert">([^<]*)<', after),
        "invalid": 'aria-invalid="true"' in attrs}


def form(page, section: str, area: str, **values) -> dict:
    return {"csrf_token": csrf(page), "section": section, "area": area, "days": "7"} | {
        f"v.{path.replace('__', '.')}": value for path, value in values.items()}


def rules_file(site) -> str:
    return (site.rt.settings.config_dir / "rules.yaml").read_text(encoding="utf-8")


def versions(site) -> int:
    with site.rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(RuleVersion))


def test_a_prefecture_sees_each_value_with_where_it_comes_from(site):
    page = text_of(site("root").get(f"/rules?section=price_linkage&area={CHANGCHUN}"))
    assert "长春市" in page
    floor, start = cell(page, "floor_yuan"), cell(page, "cpi_start_pct")
    assert (floor["value"], floor["placeholder"], floor["origin"]) == ("", "10", JILIN)  # Jilin pays from ¥10
    assert "吉林省" in floor["origin_text"]
    assert (start["value"], start["placeholder"], start["origin"]) == ("", "3.5", "000000")
    assert "全国" in start["origin_text"]
    own = text_of(site("root").get(f"/rules?section=price_linkage&area={JILIN}"))
    assert (cell(own, "floor_yuan")["value"], cell(own, "floor_yuan")["origin"]) == ("10", JILIN)
    national = text_of(site("root").get("/rules?section=cold_wave"))
    assert cell(national, "orange.drop_c")["value"] == "12" and cell(national, "orange.drop_c")["origin"] is None


def test_an_area_is_found_by_name_and_an_unknown_one_is_said_at_the_box(site):
    admin = site("root")
    assert cell(text_of(admin.get("/rules?section=price_linkage&area=长春市")), "floor_yuan")["origin"] == JILIN
    missing = admin.get("/rules?area=长春县")
    assert missing.status_code == 422
    assert re.search(r'id="area-problem">没有这个名称或代码的省、市或县：\s*<span translate="no">长春县', text_of(missing))


def test_an_override_previews_then_saves_only_what_differs_and_keeps_the_comments(site):
    admin = site("root")
    page = admin.get(f"/rules?section=cold_wave&area={JILIN}")
    before_text, before_versions = rules_file(site), versions(site)
    entered = form(page, "cold_wave", JILIN, orange__drop_c="14", yellow__drop_c="10", red__window_h="")
    preview = admin.post("/rules", data=entered | {"action": "preview"})
    assert preview.status_code == 200
    assert text_of(preview).count('data-change="lowered"') == 11  # the demo's 11 orange counties would be yellow
    assert cell(text_of(preview), "orange.drop_c")["value"] == "14"  # the entry survives the preview
    assert (rules_file(site), versions(site)) == (before_text, before_versions)

    saved = admin.post("/rules", data=entered | {"action": "save", "reason": "省厅通知第7号"}, follow_redirects=True)
    assert "下一轮运行起生效" in text_of(saved)
    written = rules_file(site)
    overrides = yaml.safe_load(written)["overrides"]
    assert overrides[JILIN] == {"price_linkage": {"floor_yuan": 10}, "cold_wave": {"orange": {"drop_c": 14}}}
    assert "吉林省（地方示例" in written and written.startswith("# 预警阈值规则")  # comments kept
    assert versions(site) == before_versions + 1
    shown = cell(text_of(saved), "orange.drop_c")
    assert (shown["value"], shown["origin"]) == ("14", JILIN) and "上级为 12" in shown["origin_text"]
    below = cell(text_of(admin.get(f"/rules?section=cold_wave&area={NANGUAN}")), "orange.drop_c")
    assert (below["placeholder"], below["origin"]) == ("14", JILIN)
    with site.rt.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor, entry.reason) == ("rules.version", "root", "省厅通知第7号")

    cleared = admin.post("/rules", data=form(saved, "cold_wave", JILIN, orange__drop_c="") | {
        "action": "save", "reason": "恢复全国标准"}, follow_redirects=True)
    assert yaml.safe_load(rules_file(site))["overrides"][JILIN] == {"price_linkage": {"floor_yuan": 10}}
    assert cell(text_of(cleared), "orange.drop_c")["origin"] == "000000"


def test_a_value_typed_equal_to_the_inherited_one_is_no_change(site):
    admin = site("root")
    page = admin.get(f"/rules?section=cold_wave&area={CHANGCHUN}")
    answer = admin.post("/rules", data=form(page, "cold_wave", CHANGCHUN, orange__drop_c="12", blue__window_h="48")
                        | {"action": "save", "reason": "核对"})
    assert answer.status_code == 200 and 'id="unchanged"' in text_of(answer)
    assert CHANGCHUN not in yaml.safe_load(rules_file(site))["overrides"]


def test_each_problem_is_shown_at_its_field_in_chinese_and_nothing_is_saved(site):
    admin = site("root")
    page = admin.get(f"/rules?section=cold_wave&area={JILIN}")
    before = rules_file(site)
    unreadable = admin.post("/rules", data=form(page, "cold_wave", JILIN, orange__drop_c="十二", red__wind_level_min="6.5")
                            | {"action": "save", "reason": "x"})
    assert unreadable.status_code == 422
    assert cell(text_of(unreadable), "orange.drop_c") | {"origin_text": None} == {
        "value": "十二", "placeholder": "12", "origin": "000000", "origin_text": None, "problems": ["请填写数字"],
        "invalid": True}
    assert cell(text_of(unreadable), "red.wind_level_min")["problems"] == ["请填写整数"]

    out_of_range = admin.post("/rules", data=form(page, "cold_wave", JILIN, yellow__drop_c="-1") | {"action": "preview"})
    assert cell(text_of(out_of_range), "yellow.drop_c")["problems"] == ["须大于 0"]

    disordered = admin.post("/rules", data=form(page, "cold_wave", JILIN, orange__drop_c="9") | {"action": "preview"})
    problems = re.search(r'id="form-problems">(.*?)</div>', text_of(disordered), re.S).group(1)
    assert "橙色级须比黄色级更严格" in problems
    raised = admin.post("/rules", data=form(page, "price_linkage", JILIN, cpi_start_pct="4") | {"action": "save",
                                                                                            "reason": "x"})
    assert cell(text_of(raised), "cpi_start_pct")["problems"] == ["地方只可调低，不得高于上级的 3.5"]
    assert rules_file(site) == before


def test_a_national_edit_that_breaks_an_area_below_names_that_area(site):
    admin = site("root")
    page = admin.get(f"/rules?section=cold_wave&area={NANGUAN}")
    admin.post("/rules", data=form(page, "cold_wave", NANGUAN, orange__drop_c="15") | {"action": "save", "reason": "县里"})
    national = admin.get("/rules?section=cold_wave")
    values = {path: cell(text_of(national), path)["value"] for path in re.findall(r'name="v\.([\w.]+)"', text_of(national))}
    answer = admin.post("/rules", data=form(national, "cold_wave", "", **{p.replace(".", "__"): v for p, v in values.items()})
                        | {"v.red.drop_c": "14", "action": "preview"})
    assert answer.status_code == 422
    problems = re.search(r'id="form-problems">(.*?)</div>', text_of(answer), re.S).group(1)
    assert re.search(r"南关区 · 寒潮</span>：红色级须比橙色级更严格", problems)


def test_a_grade_changed_for_an_area_brings_the_grades_whole(site):
    admin = site("root")
    page = admin.get(f"/rules?section=cold_wave_grade&area={CHANGCHUN}")
    admin.post("/rules", data=form(page, "cold_wave_grade", CHANGCHUN, **{"grades__1__drop_24h_c": "11"})
               | {"action": "save", "reason": "长春试行"})
    grades = yaml.safe_load(rules_file(site))["overrides"][CHANGCHUN]["cold_wave_grade"]["grades"]
    national = yaml.safe_load(rules_file(site))["cold_wave_grade"]["grades"]
    assert grades[1] == national[1] | {"drop_24h_c": 11} and [grades[0], grades[2]] == [national[0], national[2]]
    shown = text_of(admin.get(f"/rules?section=cold_wave_grade&area={CHANGCHUN}"))
    assert cell(shown, "grades.1.drop_24h_c")["value"] == "11" and cell(shown, "grades.1.drop_24h_c")["origin"] == CHANGCHUN


def test_in_english_the_same_problem_is_said_in_english(site):
    admin = site("root")
    admin.get("/?lang=en")
    page = admin.get(f"/rules?section=frost&area={JILIN}")
    answer = admin.post("/rules", data=form(page, "frost", JILIN, levels__yellow__within_h="a day"))
    assert cell(text_of(answer), "levels.yellow.within_h")["problems"] == ["enter a number"]
    disordered = admin.post("/rules", data=form(page, "frost", JILIN, levels__yellow__ground_min_c="1"))
    problems = re.search(r'id="form-problems">(.*?)</div>', text_of(disordered), re.S).group(1)
    assert "the yellow level must be stricter than blue" in problems


def test_a_province_sets_its_holiday_subsidy_and_its_counties_inherit_it(site):
    admin = site("root")
    jiangsu = text_of(admin.get("/rules?section=festival&area=320102"))
    assert (cell(jiangsu, "subsidy.per_person_yuan")["placeholder"], cell(jiangsu, "subsidy.per_person_yuan")["origin"]) == (
        "200", "320000")  # the shipped example: Jiangsu pays ¥200
    page = admin.get(f"/rules?section=festival&area={JILIN}")
    admin.post("/rules", data=form(page, "festival", JILIN, subsidy__per_person_yuan="100") | {
        "action": "save", "reason": "吉林省节日补贴"})
    assert yaml.safe_load(rules_file(site))["overrides"][JILIN]["festival"] == {"subsidy": {"per_person_yuan": 100}}
    county = text_of(admin.get(f"/rules?section=festival&area={NANGUAN}"))
    assert (cell(county, "subsidy.per_person_yuan")["placeholder"], cell(county, "subsidy.per_person_yuan")["origin"]) == (
        "100", JILIN)


def test_a_prefecture_puts_its_cold_wave_on_the_ensemble(site):
    admin = site("root")
    answer = admin.get(f"/rules?section=cold_wave&area={CHANGCHUN}")
    page = text_of(answer)
    use = cell(page, "ensemble.use")
    assert use["value"] == "" and "沿用 确定性预报" in page and "deterministic" not in re.sub(r'value="[^"]*"', "", page)
    assert cell(page, "ensemble.act.min_pct")["placeholder"] == "70"
    before = rules_file(site)
    reversed_stages = admin.post("/rules", data=form(answer, "cold_wave", CHANGCHUN, ensemble__use="ensemble",
                                                     ensemble__act__min_pct="30") | {"action": "save", "reason": "x"})
    assert reversed_stages.status_code == 422 and rules_file(site) == before
    assert "行动阶段的成员占比须不低于准备阶段" in text_of(reversed_stages)
    unknown = admin.post("/rules", data=form(answer, "cold_wave", CHANGCHUN, ensemble__use="sometimes")
                         | {"action": "save", "reason": "x"})
    assert cell(text_of(unknown), "ensemble.use")["invalid"] and rules_file(site) == before

    saved = admin.post("/rules", data=form(answer, "cold_wave", CHANGCHUN, ensemble__use="ensemble",
                                           ensemble__act__min_pct="60") | {"action": "save", "reason": "试行集合预报"},
                       follow_redirects=True)
    assert yaml.safe_load(rules_file(site))["overrides"][CHANGCHUN] == {
        "cold_wave": {"ensemble": {"use": "ensemble", "act": {"min_pct": 60}}}}
    shown = cell(text_of(saved), "ensemble.use")
    assert (shown["value"], shown["origin"]) == ("ensemble", CHANGCHUN)
    below = text_of(admin.get(f"/rules?section=cold_wave&area={NANGUAN}"))
    assert cell(below, "ensemble.act.min_pct")["placeholder"] == "60" and "沿用 集合预报" in below
