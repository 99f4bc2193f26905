"""Input that once answered 500 (or a traceback from the CLI) is refused with a 4xx problem, or exit
status 2, naming the field; nothing stored changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import settings_env
from tests.integration.test_api_tasks import OWN, demo, first_task  # noqa: F401  (the demo fixture)
from tests.integration.test_caseload import HEADER
from warning.models import Caseload, Task

OVERFLOW = 2**31  # one more than an INTEGER column holds
CASELOAD = HEADER + f"{OWN},{OVERFLOW},0,10,0,30,40,2,3,4,780,540,1014,702\n"


def test_a_count_beyond_an_integer_is_a_422_naming_row_and_column(demo):  # noqa: F811
    with demo.rt.sessions() as session:
        before = session.scalars(select(Caseload.dibao_urban).where(Caseload.region_code == OWN)).all()
    response = demo("POST", "/api/v1/caseload", "root", data=CASELOAD.encode(), content_type="text/csv")
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert response.json["errors"] == [{"field": "upload.csv, row 2, column dibao_urban",
                                        "message": f"must be a whole number from 0 to 2,147,483,647 (got '{OVERFLOW}')"}]
    with demo.rt.sessions() as session:
        assert session.scalars(select(Caseload.dibao_urban).where(Caseload.region_code == OWN)).all() == before


def test_the_cli_refuses_it_with_exit_status_2(config_dir, tmp_path, database_url):
    path = tmp_path / "caseload.csv"
    path.write_text(CASELOAD, encoding="utf-8")
    env = {**os.environ, **settings_env(config_dir, database_url, tmp_path)}
    coldwarn = str(Path(sys.executable).parent / "coldwarn")
    subprocess.run([coldwarn, "db", "upgrade"], env=env, check=True, capture_output=True)
    result = subprocess.run([coldwarn, "caseload", "import", str(path)], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "row 2, column dibao_urban: must be a whole number from 0 to 2,147,483,647" in result.stderr


@pytest.mark.parametrize("body, field", [
    ({"status": "acknowledged", "note": 42}, "note"),
    ({"status": "acknowledged", "note": {"text": "x"}}, "note"),
    ({"status": 3}, "status"),
    ({"note": "visited"}, "status"),
])
def test_a_task_move_with_a_field_of_the_wrong_type_is_a_422_naming_it(demo, body, field):  # noqa: F811
    task_id = first_task(demo.rt, OWN)
    response = demo("POST", f"/api/v1/tasks/{task_id}/status", "nanguan", json=body)
    assert response.status_code == 422 and [e["field"] for e in response.json["errors"]] == [field]
    with demo.rt.sessions() as session:
        assert session.get(Task, task_id).status == "open"


DEEP_SEQUENCE = "[" * 1000 + "]" * 1000
DEEP_MAPPING = "cold_wave: " + "{x: " * 1000 + "1" + "}" * 1000


@pytest.mark.parametrize("text", [DEEP_SEQUENCE, DEEP_MAPPING], ids=["lists", "mappings"])
@pytest.mark.parametrize("method, path", [("POST", "/api/v1/rules/validate"), ("PUT", "/api/v1/rules")])
def test_yaml_nested_a_thousand_levels_is_a_422(demo, text, method, path):  # noqa: F811
    before = (demo.rt.settings.config_dir / "rules.yaml").read_text(encoding="utf-8")
    body = {"text": text} | ({"reason": "test"} if method == "PUT" else {})  # validate takes the text alone
    response = demo(method, path, "root", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "text", "message": "not valid YAML: nested more than 32 levels deep"}]
    assert (demo.rt.settings.config_dir / "rules.yaml").read_text(encoding="utf-8") == before
