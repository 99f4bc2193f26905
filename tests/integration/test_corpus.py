"""Third-party payloads as published (tests/corpus/README.md says where each comes from), through
the real parsers and through `coldwarn run-once` on a scenario made of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import demo
from tests.conftest import settings_env
from warning.feeds.formats import parsed

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
COLDWARN = str(Path(sys.executable).parent / "coldwarn")
OASIS = ["oasis-cap12-a1-homeland-security.xml", "oasis-cap12-a2-thunderstorm.xml",
         "oasis-cap12-a3-earthquake.xml", "oasis-cap12-a4-amber-alert.xml"]
CHINESE = ["cn-coldwave-gbt35965-utf8.xml", "cn-coldwave-gbt35965-gb2312.xml"]
OM, QW = {"regions": ["220102"]}, {"region": "220102"}

# file, format, request, what comes of it: ("refused", words) or ("rows", value of the frame)
EXPECTED = [
    ("openmeteo-docs-example.json", "open-meteo", OM, ("refused", "hourly.wind_speed_10m: missing")),
    ("openmeteo-docs-error.json", "open-meteo", OM, ("refused", "the provider answered with an error: Cannot "
                                                     "initialize WeatherVariable from invalid String value tempeture_2m")),
    ("qweather-error-v2.json", "qweather-daily", QW, ("refused", "Invalid Parameters: Invalid parameters, please "
                                                      "check your request. (parameters: lang)")),
    ("qweather-daily-docs-example.json", "qweather-daily", QW, ("rows", [-1.0, 0.0, 0.0])),
    ("qweather-alert-docs-example.json", "qweather-alerts", QW, ("rows", [])),
    *[(name, "cap", {}, ("rows", [])) for name in OASIS],
    *[(name, "cap", {}, ("rows", [("220100", "1005", "orange"), ("229999", "1005", "orange")])) for name in CHINESE],
]


def outcome(pulled):
    if pulled.error:
        return "refused", pulled.error
    frame = pulled.data
    if "tmin" in frame:
        return "rows", frame["tmin"].tolist()
    return "rows", list(frame[["region_code", "event_code", "colour"]].itertuples(index=False, name=None))


@pytest.mark.parametrize("name, fmt, request_, expected", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_published_payload_gives_its_expected_outcome(name, fmt, request_, expected):
    kind, what = outcome(parsed(fmt, name, (CORPUS / name).read_bytes(), request_))
    assert kind == expected[0]
    assert (expected[1] in what) if kind == "refused" else what == expected[1]


def test_gb2312_and_utf8_say_the_same():
    utf8, gb = (parsed("cap", n, (CORPUS / n).read_bytes()).data for n in CHINESE)
    assert utf8.to_dict("records") == gb.to_dict("records")
    assert utf8.iloc[0]["headline"] == "吉林省气象台发布寒潮橙色预警信号"


def test_a_cold_event_under_foreign_geocodes_names_no_region():
    # BUILT from OASIS A.2: its event made a cold wave, its SAME codes (006109 …) kept.
    text = (CORPUS / OASIS[1]).read_text(encoding="utf-8").replace("SEVERE THUNDERSTORM</event>", "寒潮</event>")
    pulled = parsed("cap", "a2-as-cold", text.encode())
    assert pulled.ok and pulled.data.empty


def test_qweather_colours_are_read_in_any_case():
    # BUILT from QWeather's published alert example: a cold wave, its colour code capitalised.
    data = json.loads((CORPUS / "qweather-alert-docs-example.json").read_bytes())
    data["alerts"][0]["eventType"] = {"name": "寒潮", "code": "1005"}
    data["alerts"][0]["color"]["code"] = "Blue"
    frame = parsed("qweather-alerts", "qw", json.dumps(data).encode(), QW).data
    assert frame[["event_code", "colour"]].values.tolist() == [["1005", "blue"]]


def test_run_once_on_a_scenario_of_the_corpus(config_dir, tmp_path):
    scenario = config_dir / "scenarios" / "corpus"
    shutil.copytree(config_dir / "scenarios" / "demo", scenario)
    for name in ["openmeteo-docs-example.json", "qweather-alert-docs-example.json", *OASIS, *CHINESE]:
        shutil.copy(CORPUS / name, scenario / name)
    manifest = yaml.safe_load((scenario / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["name"] = "corpus"
    manifest["forecast"]["batches"].append({"file": "openmeteo-docs-example.json", "regions": ["220102"]})
    manifest["warnings"] = ([{"file": n, "format": "cap"} for n in [*OASIS, *CHINESE]]
                            + [{"file": "qweather-alert-docs-example.json", "format": "qweather-alerts",
                                "region": "220102"}])
    (scenario / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    env = settings_env(config_dir, f"sqlite:///{tmp_path / 'cw.db'}", tmp_path)

    result = subprocess.run([COLDWARN, "run-once", "--scenario", "corpus", "--json"], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    [refused] = summary["feeds"]["rejected"]
    assert "openmeteo-docs-example.json" in refused and "hourly.wind_speed_10m: missing" in refused
    changchun = [r["code"] for r in demo.jilin_regions() if r["prefecture_code"] == "220100"]
    assert summary["alerts"]["by_hazard"]["official"] == {"orange": len(changchun)}
    assert summary["regions_assessed"] == 60  # the refused batch took nothing from the others
