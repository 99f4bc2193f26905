"""What people read on robots, e-mail and SMS: local time, their language, within each channel's limits."""

from __future__ import annotations

import pytest

from notifiers.digest import digest
from notifiers.robots import WECOM_MAX_BYTES, fit
from notifiers.targets import redact, scrub

REGION = {"code": "220802", "name": "洮北区", "timezone": "Asia/Shanghai",
          "prefecture": {"code": "220800", "name": "白城市"}, "province": {"code": "220000", "name": "吉林省"}}
TASK = {"task_id": 7, "type": "visit_vulnerable", "status": "in_progress", "rule": "r", "due_at": "2026-01-19T16:00:00Z",
        "quantities": {}, "role": {"zh": "社会救助科", "en": "Social assistance"},
        "title": {"zh": "走访重病重残人员", "en": "Visit the seriously ill and disabled"},
        "instructions": {"zh": "逐户走访", "en": "Visit each household"}}


def test_task_list_shows_due_times_in_the_county_clock():
    text = digest("tasklist.issued", {"region": REGION, "tasks": [TASK]}).text()
    assert "01月20日 00:00" in text  # 16:00 UTC is midnight in Beijing
    assert text.splitlines()[0] == "洮北区防寒救助任务单"


def test_english_digest_of_a_task_update_names_status_note_and_who():
    data = {"region": REGION, "task": TASK | {"note": "12 of 40 households"}, "changed_by": "county-op"}
    summary = digest("task.updated", data, "en")
    assert summary.title == "洮北区: Task: Visit the seriously ill and disabled"
    assert ("Status", "in progress") in summary.lines and ("Note", "12 of 40 households") in summary.lines
    assert ("By", "county-op") in summary.lines


def test_overdue_and_subsidy_and_admin_events_have_their_own_titles():
    overdue = digest("task.overdue", {"region": REGION, "task": TASK | {"note": None}, "changed_by": None})
    assert "任务逾期" in overdue.title and all(label != "备注" for label, _ in overdue.lines)
    subsidy = digest("subsidy.issued", {"region": REGION, "month": "2026-01", "recipients": 1200, "total_yuan": 36000.0,
                                        "per_person_yuan": {"urban": 30.0, "rural": 20.5}})
    assert ("每人（城市/农村）", "30.00 / 20.50 元") in subsidy.lines
    stale = digest("feed.stale", {"feed": "forecast", "data_as_of": None, "stale_since": "x", "max_age_h": 12.0}, "en")
    assert stale.title == "Feed stale: forecast" and ("Data as of", "unknown") in stale.lines


def test_html_escapes_what_came_from_outside():
    summary = digest("task.updated", {"region": REGION, "task": TASK | {"note": "<script>x</script>"}, "changed_by": None})
    assert "<script>" not in summary.html() and "&lt;script&gt;" in summary.html()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_content_cut_for_wecom_stays_valid_utf8_and_says_so(lang):
    long = "寒" * 3000
    cut = fit(long, WECOM_MAX_BYTES, lang)
    assert len(cut.encode()) <= WECOM_MAX_BYTES and cut.startswith("寒" * 100)
    assert ("已截断" if lang == "zh" else "cut") in cut
    assert fit("短", WECOM_MAX_BYTES, lang) == "短"


def test_sms_line_is_cut_to_its_limit():
    text = digest("tasklist.issued", {"region": REGION, "tasks": [TASK] * 10}).short(70)
    assert len(text) == 70 and text.endswith("…") and "走访重病重残人员" in text
    assert "吉林省" not in text  # the title names the county; the full place name is left to longer channels


def test_robot_keys_never_shown_or_quoted_in_errors():
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx&debug=1"
    assert redact(url) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***&debug=***"
    assert "693a91f6-7xxx" not in scrub(f"ConnectionError: Max retries exceeded with url: {url}", url)
    assert redact("https://hooks.example/x") == "https://hooks.example/x"
