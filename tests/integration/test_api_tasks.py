"""The task, sheet, progress and caseload endpoints, with every role against own and foreign regions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from warning.cycle import run_cycle
from warning.models import Caseload, Task
from warning.sources import open_source

OWN, FOREIGN = "220102", "220802"  # nanguan's county, and another Jilin county
USERS = ("root", "jilin", "beijing", "nanguan", "watcher")
SEE = {"root": {OWN, FOREIGN}, "jilin": {OWN, FOREIGN}, "beijing": set(), "nanguan": {OWN}, "watcher": {OWN, FOREIGN}}
CHANGE = {"root": {OWN, FOREIGN}, "jilin": {OWN, FOREIGN}, "beijing": set(), "nanguan": {OWN}, "watcher": set()}


@pytest.fixture
def demo(api):  # noqa: F811
    run_cycle(api.rt, open_source(api.rt, "demo"), deliver=False)
    return api


def first_task(rt, code) -> int:
    with rt.sessions() as session:
        return session.scalars(select(Task.id).where(Task.region_code == code, Task.status == "open")
                               .order_by(Task.id)).first()


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("code", [OWN, FOREIGN])
def test_reading_a_countys_tasks_and_sheet(demo, who, code):
    allowed = code in SEE[who]
    listing = demo("GET", f"/api/v1/regions/{code}/tasks", who)
    sheet = demo("GET", f"/api/v1/regions/{code}/sheet?format=md", who)
    assert (listing.status_code, sheet.status_code) == ((200, 200) if allowed else (403, 403))
    if allowed:
        assert listing.json["total"] > 0 and all(t["status"] == "open" for t in listing.json["items"])
        assert sheet.content_type.startswith("text/markdown") and "防寒救助任务单" in sheet.get_data(as_text=True)


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("code", [OWN, FOREIGN])
def test_changing_a_task(demo, who, code):
    task_id = first_task(demo.rt, code)
    response = demo("POST", f"/api/v1/tasks/{task_id}/status", who, json={"status": "acknowledged"})
    expected = 200 if code in CHANGE[who] else (403 if code in SEE[who] else 404)
    assert response.status_code == expected, response.json
    with demo.rt.sessions() as session:
        assert session.get(Task, task_id).status == ("acknowledged" if expected == 200 else "open")


def test_a_move_the_lifecycle_refuses_is_a_409_saying_why(demo):
    """The body is valid (a known status): the task's state refuses it, so 409 Conflict, not 422."""
    task_id = first_task(demo.rt, OWN)
    response = demo("POST", f"/api/v1/tasks/{task_id}/status", "nanguan", json={"status": "done"})
    assert response.status_code == 409 and response.content_type == "application/problem+json"
    assert response.json["detail"] == "status: a task that is open cannot become done (allowed: acknowledged, not_needed)"
    not_said = demo("POST", f"/api/v1/tasks/{task_id}/status", "nanguan", json={"status": "not_needed", "note": " "})
    assert not_said.status_code == 422 and not_said.json["errors"][0]["field"] == "note"
    assert demo("POST", "/api/v1/tasks/999999/status", "root", json={"status": "done"}).status_code == 404


def test_progress_is_for_province_and_national_users(demo):
    national = demo("GET", "/api/v1/progress?by=prefecture", "root").json["items"]
    assert {r["code"] for r in national} >= {"220100", "220800"}
    assert demo("GET", "/api/v1/progress", "jilin").json["items"][0]["code"] == "220000"
    assert demo("GET", "/api/v1/progress", "beijing").json["items"] == []
    assert demo("GET", "/api/v1/progress", "nanguan").status_code == 403


def test_the_sheet_in_each_format(demo):
    html = demo("GET", f"/api/v1/regions/{OWN}/sheet?format=html&lang=en", "nanguan")
    assert html.content_type.startswith("text/html") and "Cold-weather relief task sheet" in html.get_data(as_text=True)
    data = demo("GET", f"/api/v1/regions/{OWN}/sheet", "nanguan").json
    assert data["region"]["name"] == "南关区" and data["tasks"][0]["due"].startswith("2026-")
    assert demo("GET", f"/api/v1/regions/{OWN}/sheet?format=pdf", "nanguan").status_code == 422
    assert demo("GET", "/api/v1/regions/999999/sheet", "root").status_code == 404


HEADER = ("region_code,dibao_urban,dibao_rural,tekun_urban,tekun_rural,ill_disabled,elderly_alone,orphans,"
          "unsupported_children,rough_sleepers,dibao_standard_urban,dibao_standard_rural,tekun_standard_urban,"
          "tekun_standard_rural\n")


def row(code, urban=100):
    return f"{code},{urban},0,10,0,20,30,1,2,3,850,600,1105,780\n"


def test_caseload_upload_is_all_or_nothing_and_limited_to_the_callers_area(demo):
    refused = demo("POST", "/api/v1/caseload", "nanguan", data=HEADER + row(OWN, 7) + row(FOREIGN, 7),
                   content_type="text/csv")
    assert refused.status_code == 422
    assert refused.json["errors"] == [{"field": "upload.csv, row 3, column region_code",
                                       "message": f"{FOREIGN} is outside your area"}]
    accepted = demo("POST", "/api/v1/caseload", "nanguan", data=HEADER + row(OWN, 7), content_type="text/csv")
    assert accepted.status_code == 201 and accepted.json == {"imported": 1}
    with demo.rt.sessions() as session:
        stored = {c.region_code: c.dibao_urban for c in session.scalars(select(Caseload))}
    assert stored[OWN] == 7 and stored[FOREIGN] != 7
    export = demo("GET", "/api/v1/caseload", "nanguan").get_data(as_text=True).splitlines()
    assert export[0] == HEADER.strip() and [line.split(",")[0] for line in export[1:]] == [OWN]
    assert demo("POST", "/api/v1/caseload", "watcher", data=HEADER + row(OWN), content_type="text/csv").status_code == 403
