"""The `coldwarn` command line."""

from __future__ import annotations

import json
from datetime import timedelta
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from notifiers import CHANNELS
from triggers.validation import InvalidConfig
from warning.settings import load_settings


def fail_on_config(func):
    """Print what was refused, headed by the command, one problem per line, and exit 2 (not a traceback)."""
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InvalidConfig as error:
            click.echo(f"{click.get_current_context().command_path} refused:", err=True)
            for problem in error.problems:
                click.echo(f"  - {problem}", err=True)
            sys.exit(2)
    wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
    return wrapper


def echo_from_database(render) -> None:
    """Print what `render(session)` makes of the stored data (CSV listings)."""
    rt = start_runtime()
    with rt.sessions() as session:
        click.echo(render(session), nl=False)


def source_options(command):
    """Where a command's cycles read from: a scenario (moved to today unless --as-recorded) or live feeds."""
    options = [click.option("--scenario", help="scenario name under config/scenarios/ or a folder path"),
               click.option("--live", is_flag=True, help="use the live feeds even if settings name a scenario"),
               click.option("--as-recorded", is_flag=True,
                            help="replay the scenario on its own recorded clock, not moved to today")]
    for option in reversed(options):
        command = option(command)
    return command


CYCLE_STAGES = ("pull", "assess", "reconcile", "persist", "deliver")


@contextmanager
def progress(label: str, length: int):
    """A progress bar on stderr while long work runs; nothing at all when stderr is not a terminal
    (logs, cron, CI). Yields advance(item): one step done, naming what was."""
    if not sys.stderr.isatty():
        yield lambda _item=None: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True,
                           item_show_func=lambda item: item or "") as bar:
        yield lambda item=None: bar.update(1, item)


@contextmanager
def cycle_progress(deliver: bool):
    """advance(stage) for run_cycle's on_stage: a step per main stage the first time it ends."""
    stages = [s for s in CYCLE_STAGES if deliver or s != "deliver"]
    with progress("cycle", len(stages)) as advance:
        done: set[str] = set()

        def on_stage(name: str) -> None:
            if name in stages and name not in done:
                done.add(name)
                advance(name)
        yield on_stage


def known_county(rt, code: str) -> None:
    """An unknown region is an error (exit 2), not an empty answer."""
    if code not in rt.config.region_codes:
        raise InvalidConfig([f"--region: no county or township {code} in config/regions"])


def start_runtime(migrate: bool = False):
    """The runtime on a database at the newest schema: migrated first if `migrate`, else refused with
    the command that migrates it (not a SQL traceback about a missing table)."""
    from warning.db import missing_migrations, upgrade
    from warning.runtime import Runtime, settle_heap
    rt = Runtime.start(load_settings())
    if migrate:
        upgrade(rt.engine)
    elif behind := missing_migrations(rt.engine):
        rt.close()
        raise click.ClickException(f"the database is not migrated ({behind}): run `coldwarn db upgrade`")
    settle_heap()
    return rt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coldwarn", prog_name="coldwarn", message="%(prog)s %(version)s")
@click.option("--log-format", type=click.Choice(["text", "json"]), envvar="COLDWARN_LOG_FORMAT", default="text",
              show_default=True, help="json: one object a line with the instance and cycle id (COLDWARN_LOG_FORMAT)")
def main(log_format):
    """coldwarn: cold-weather early warnings and relief task lists for civil-affairs offices."""
    from warning.logs import configure
    configure(log_format)


@main.command("run-once")
@source_options
@click.option("--json", "as_json", is_flag=True, help="print the summary as one JSON object")
@click.option("--no-deliver", is_flag=True, help="enqueue messages but do not send them")
@fail_on_config
def run_once(scenario, live, as_recorded, as_json, no_deliver):
    """Run one cycle: pull, assess, reconcile, plan, persist, deliver; print a summary."""
    from warning.cycle import run_cycle
    from warning.leader import CYCLE_LOCK, abandon_cut_off_cycles, cluster_lock
    from warning.models import utcnow
    from warning.sources import open_source
    rt = start_runtime(migrate=True)
    with cluster_lock(rt.engine, CYCLE_LOCK) as held:
        if not held:
            raise click.ClickException("another instance is running a cycle right now; try again when it is done")
        with rt.sessions.begin() as session:
            if abandon_cut_off_cycles(session, utcnow()):
                click.echo("a cycle cut off by its process's end was marked abandoned", err=True)
        source = open_source(rt, scenario, live, to_today=not as_recorded)
        with cycle_progress(not no_deliver) as on_stage:
            summary = run_cycle(rt, source, deliver=not no_deliver, lead=held, on_stage=on_stage)
    click.echo(json.dumps(summary, ensure_ascii=False) if as_json else human_summary(summary))
    rt.close()


def human_summary(s: dict) -> str:
    a, d = s["alerts"], s["deliveries"]
    levels = "; ".join(f"{hazard}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                       for hazard, counts in sorted(a["by_hazard"].items())) or "none"
    return (f"cycle {s['cycle_id']} ({s['scenario']}, as of {s['as_of']})\n"
            f"  regions assessed: {s['regions_assessed']}\n"
            f"  alerts: {a['issued']} issued, {a['updated']} updated, {a['resolved']} resolved; open: {levels}\n"
            f"  tasks created: {s['tasks_created']}; subsidies started: {s['subsidies']['started']} "
            f"(¥{s['subsidies']['total_yuan']:.2f})\n"
            f"  deliveries: {d['delivered']} delivered, {d['failed']} failed (will retry), {d['parked']} parked\n"
            f"  feeds: {s['feeds']['ok']} ok, {len(s['feeds']['rejected'])} failed or refused "
            f"({s['feeds']['fallbacks']} replaced by their last good payload); "
            f"stale: {', '.join(f for f, v in s['feeds']['freshness'].items() if v['stale']) or 'none'}"
            + "".join(f"\n    - {e}" for e in s["feeds"]["rejected"]))


@main.command()
@click.option("--host", help="address to listen on (default from settings)")
@click.option("--port", type=int, help="port (default from settings)")
@source_options
@click.option("--no-scheduler", is_flag=True, help="web only: leave the scheduled jobs to `coldwarn worker` processes")
@fail_on_config
def serve(host, port, scenario, live, as_recorded, no_scheduler):
    """Serve the web app, with the scheduled jobs in the same process unless --no-scheduler."""
    from waitress import create_server
    from warning.scheduler import build_scheduler
    from warning.sources import open_source
    from warning.web import create_app
    rt = start_runtime(migrate=True)
    host, port = host or rt.settings.server.host, port or rt.settings.server.port
    try:  # the port first: a busy one stops here, before any scheduled job has started
        server = create_server(create_app(rt), host=host, port=port, threads=8)
    except OSError as error:
        rt.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({error.strerror or error}): stop what uses it, or choose another "
            f"port: make run PORT=8001, coldwarn serve --port 8001 or COLDWARN_PORT=8001") from None
    scheduler = None if no_scheduler else build_scheduler(rt, open_source(rt, scenario, live, to_today=not as_recorded))
    if scheduler:
        scheduler.start()
    click.echo(f"coldwarn serving on http://{host}:{port}/")
    try:
        server.run()
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)
        rt.close()


@main.command()
@source_options
@fail_on_config
def worker(scenario, live, as_recorded):
    """Run the scheduled jobs without the web. On PostgreSQL run as many as you like: one runs each cycle."""
    import signal
    from apscheduler.schedulers.blocking import BlockingScheduler
    from warning.scheduler import build_scheduler
    from warning.sources import open_source
    rt = start_runtime(migrate=True)
    scheduler = build_scheduler(rt, open_source(rt, scenario, live, to_today=not as_recorded), BlockingScheduler)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    click.echo("coldwarn worker running; SIGTERM or Ctrl-C stops it")
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()


@main.command()
@fail_on_config
def deliver():
    """Send everything in the outbox that is due now, then exit."""
    from warning.delivery import drain
    rt = start_runtime()
    counts = drain(rt.sessions, rt.http, rt.settings.delivery)
    click.echo(json.dumps(dict(counts)))


@main.group()
def config():
    """Configuration commands."""


@config.command("check")
@fail_on_config
def config_check():
    """Validate every config file; exit 2 naming file, key and reason of each problem."""
    from warning.config import load_config
    loaded = load_config(load_settings())
    regions = loaded.regions
    unplaced = regions[regions["latitude"].isna()]
    placed = len(regions) - len(unplaced)
    click.echo(f"configuration OK: {len(regions)} regions, rules {loaded.rules.version}, "
               f"{len(loaded.playbook.tasks)} task templates, {len(loaded.subscriptions)} subscriptions")
    click.echo(f"coverage: {placed}/{len(regions)} regions with coordinates ({placed / len(regions):.1%})")
    for row in unplaced.itertuples():
        click.echo(f"warning: region {row.code} {row.name} has no coordinates: it gets no forecast "
                   f"and is never assessed (regions.csv)", err=True)


@main.group()
def db():
    """Database commands."""


@db.command("upgrade")
@fail_on_config
def db_upgrade():
    """Create or migrate the database schema to the newest version."""
    from warning.db import make_engine, upgrade
    settings = load_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")


@main.group()
def caseload():
    """Caseload (recipients, standards) and cold shelters per county."""


@caseload.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shelters", is_flag=True, help="the file lists cold shelters, not caseload")
@fail_on_config
def caseload_import(csv_file: Path, shelters: bool):
    """Import a caseload (or shelter) CSV: every row or none."""
    from warning.caseload import import_caseload, import_shelters
    rt = start_runtime()
    importer = import_shelters if shelters else import_caseload
    with rt.sessions.begin() as session:
        count = importer(session, csv_file.read_bytes(), str(csv_file), rt.config.region_codes)
    click.echo(f"imported {count} rows from {csv_file}")


@caseload.command("export")
@fail_on_config
def caseload_export():
    """Print the stored caseload as CSV."""
    from warning.caseload import export_caseload
    echo_from_database(export_caseload)


@main.command()
@click.argument("cycle_id")
@click.option("--into", "target_url", help="database URL to replay into (default: a new SQLite file in the instance folder)")
@click.option("--json", "as_json", is_flag=True, help="print the last replayed summary as JSON")
@fail_on_config
def replay(cycle_id, target_url, as_json):
    """Re-run every stored cycle up to CYCLE_ID from its saved payloads, into a separate database."""
    from warning.cycle import run_cycle
    from warning.db import upgrade
    from warning.feeds.replay import cycles_until
    from warning.runtime import Runtime
    rt = start_runtime()
    with rt.sessions() as session:
        sources = cycles_until(session, cycle_id)
    target = target_url or f"sqlite:///{(rt.settings.instance_dir / f'replay-{cycle_id[:8]}.db').resolve()}"
    if target == rt.settings.database_url:
        raise InvalidConfig(["--into: replaying into the live database would duplicate its alerts"])
    replica = Runtime.start(rt.settings.model_copy(update={"database": rt.settings.database.model_copy(update={"url": target})}))
    upgrade(replica.engine)
    with progress("replaying cycles", len(sources)) as advance:
        for source in sources:
            summary = run_cycle(replica, source, deliver=False)
            advance(source.now.strftime("%Y-%m-%d %H:%M"))
    click.echo(json.dumps(summary, ensure_ascii=False) if as_json else human_summary(summary))
    click.echo(f"replayed {len(sources)} cycle(s) into {target}", err=True)


@main.command()
@fail_on_config
def prune():
    """Drop raw payloads older than feeds.snapshot_retention_days (their feed-run rows stay)."""
    from warning.maintenance import prune_snapshots
    rt = start_runtime()
    click.echo(f"pruned {prune_snapshots(rt)} payloads")


@main.group()
def cpi():
    """Consumer-price figures entered by hand (audited)."""


@cpi.command("set")
@click.option("--area", required=True, help="six-digit area code; 000000 for the nation")
@click.option("--month", required=True, help="YYYY-MM the figures describe")
@click.option("--cpi", "cpi_yoy", required=True, help="CPI, percent year-on-year")
@click.option("--food", "food_yoy", required=True, help="food CPI, percent year-on-year")
@click.option("--released", required=True, help="publication date YYYY-MM-DD")
@click.option("--by", "actor", required=True, help="who enters it")
@click.option("--reason", required=True, help="why (source document, correction, ...)")
@fail_on_config
def cpi_set(area, month, cpi_yoy, food_yoy, released, actor, reason):
    """Enter or correct one area's CPI figures for one month."""
    from warning.manual_cpi import set_manual_cpi
    rt = start_runtime()
    with rt.sessions.begin() as session:
        set_manual_cpi(session, rt.config, {"area_code": area, "month": month, "cpi_yoy": cpi_yoy,
                                            "food_cpi_yoy": food_yoy, "released_on": released}, actor, reason)
    click.echo(f"CPI for {area} {month} recorded")


@cpi.command("list")
@fail_on_config
def cpi_list():
    """Print the hand-entered CPI figures as CSV."""
    from warning.manual_cpi import manual_cpi_csv
    echo_from_database(manual_cpi_csv)


@main.group()
def users():
    """Accounts: admin, province, county or viewer."""


@users.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "province", "county", "viewer"]))
@click.option("--region", "region_code", help="province code (xx0000) for province users, county code for county users")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input instead of asking")
@fail_on_config
def users_create(name, role, region_code, password_stdin):
    """Create a user; the password is asked for (twice) unless --password-stdin."""
    from warning.accounts import create_user
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else click.prompt("password", hide_input=True, confirmation_prompt=True))
    rt = start_runtime()
    with rt.sessions.begin() as session:
        create_user(session, name, role, region_code, password, rt.config.area_codes, actor="cli")
    click.echo(f"user {name} ({role}{' ' + region_code if region_code else ''}) created")


@main.group()
def tokens():
    """API tokens (sent as 'Authorization: Bearer …')."""


@tokens.command("create")
@click.option("--user", "user_name", required=True)
@click.option("--label", default="api", help="what the token is for")
@fail_on_config
def tokens_create(user_name, label):
    """Create a token for USER and print it once: it cannot be shown again."""
    from warning.accounts import create_token
    rt = start_runtime()
    with rt.sessions.begin() as session:
        token = create_token(session, user_name, label, actor="cli")
    click.echo(token)


@tokens.command("revoke")
@click.argument("prefix")
@fail_on_config
def tokens_revoke(prefix):
    """Revoke the token(s) starting with PREFIX (the first 11 characters, as listed)."""
    from warning.accounts import revoke_token
    rt = start_runtime()
    with rt.sessions.begin() as session:
        count = revoke_token(session, prefix, actor="cli")
    if not count:
        raise InvalidConfig([f"token: no active token with prefix {prefix}"])
    click.echo(f"revoked {count} token(s)")


@main.group()
def alerts():
    """Raise or stand down an alert by hand (held until it expires or is cleared)."""


def manual(action, region, hazard, level, reason, actor, hours):
    from warning.manual_alerts import decide
    rt = start_runtime()
    with rt.sessions.begin() as session:
        decision = decide(session, rt.config.region_codes, region_code=region, hazard=hazard, action=action,
                          level=level, reason=reason, actor=actor, hours=hours)
        click.echo(f"decision {decision.id}: {action} {region} {hazard} {level or ''} until "
                   f"{decision.expires_at.isoformat()} (applies from the next cycle)")


HAZARD_CHOICE = click.Choice(["cold_wave", "cold_wave_grade", "frost", "persistent_cold", "shelter", "official"])


@alerts.command("raise")
@click.option("--region", required=True, help="county code")
@click.option("--hazard", required=True, type=HAZARD_CHOICE)
@click.option("--level", required=True, type=click.Choice(["blue", "yellow", "orange", "red"]))
@click.option("--reason", required=True)
@click.option("--by", "actor", required=True)
@click.option("--hours", default=48.0, show_default=True, help="how long the decision holds")
@fail_on_config
def alerts_raise(region, hazard, level, reason, actor, hours):
    """Keep a county's alert at least at LEVEL, whatever the forecast says."""
    manual("raise", region, hazard, level, reason, actor, hours)


@alerts.command("stand-down")
@click.option("--region", required=True, help="county code")
@click.option("--hazard", required=True, type=HAZARD_CHOICE)
@click.option("--reason", required=True)
@click.option("--by", "actor", required=True)
@click.option("--hours", default=24.0, show_default=True, help="how long the decision holds")
@fail_on_config
def alerts_stand_down(region, hazard, reason, actor, hours):
    """Resolve a county's alert and keep it quiet, whatever the forecast says."""
    manual("stand_down", region, hazard, None, reason, actor, hours)


@alerts.command("clear")
@click.argument("decision_id", type=int)
@click.option("--by", "actor", required=True)
@fail_on_config
def alerts_clear(decision_id, actor):
    """End a manual decision early; the forecast decides again from the next cycle."""
    from warning.manual_alerts import clear
    rt = start_runtime()
    with rt.sessions.begin() as session:
        clear(session, decision_id, actor)
    click.echo(f"decision {decision_id} cleared")


@main.group()
def rules():
    """The threshold rules in force and their history."""


@rules.command("set")
@click.argument("rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "actor", required=True)
@click.option("--reason", required=True)
@fail_on_config
def rules_set(rules_file, actor, reason):
    """Validate RULES_FILE, record it as a new version (who, why) and put it in force."""
    from warning.config import read_text
    from warning.rule_versions import check_rules_text, install_rules
    rt = start_runtime()
    text = read_text(rules_file)
    installed = check_rules_text(rt.config, text, str(rules_file))
    with rt.sessions.begin() as session:
        install_rules(session, rt.config, installed, text, actor, reason)
    click.echo(f"rules {installed.version} in force from the next cycle")


@rules.command("history")
@fail_on_config
def rules_history():
    """Every recorded rule version: when, who, why."""
    from sqlalchemy import select
    from warning.models import RuleVersion

    def render(session):
        rows = session.scalars(select(RuleVersion).order_by(RuleVersion.id))
        return "".join(f"{r.created_at.isoformat()}  {r.version}  {r.actor}: {r.reason}\n" for r in rows)
    echo_from_database(render)


@main.group()
def tasks():
    """County task lists: list, change status, print the sheet, see progress."""


@tasks.command("list")
@click.option("--region", required=True, help="county code")
@fail_on_config
def tasks_list(region):
    """Print a county's tasks: id, status, due (local time), title."""
    from sqlalchemy import select
    from warning.models import Task
    from warning.render import local
    from zoneinfo import ZoneInfo
    rt = start_runtime()
    known_county(rt, region)
    zone = ZoneInfo(rt.config.regions_by_code[region]["timezone"])
    with rt.sessions() as session:
        rows = session.scalars(select(Task).where(Task.region_code == region).order_by(Task.due_at, Task.id))
        click.echo("".join(f"{t.id}\t{t.status}\t{local(t.due_at, zone)}\t{t.title['zh']}\n" for t in rows), nl=False)


@tasks.command("set")
@click.argument("task_id", type=int)
@click.argument("status", type=click.Choice(["acknowledged", "in_progress", "done", "not_needed"]))
@click.option("--note", help="required for not_needed")
@click.option("--by", "actor", required=True)
@fail_on_config
def tasks_set(task_id, status, note, actor):
    """Move a task on: acknowledged, in_progress, done, or not_needed (with --note)."""
    from warning.events import Outbox
    from warning.models import utcnow
    from warning.tasks import set_status
    rt = start_runtime()
    with rt.sessions.begin() as session:
        outbox = Outbox(session, None, utcnow(), rt.settings.delivery.retry_schedule_s[0])
        set_status(session, rt.config, outbox, task_id, status, note, actor)
    click.echo(f"task {task_id}: {status}")


@tasks.command("sheet")
@click.option("--region", required=True, help="county code")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default="html", show_default=True)
@fail_on_config
def tasks_sheet(region, lang, fmt):
    """Print a county's task sheet (HTML prints on A4)."""
    from warning.clock import judged_now
    from warning.render import render_html, render_markdown, sheet_model
    rt = start_runtime()
    known_county(rt, region)
    with rt.sessions() as session:
        model = sheet_model(session, rt.config, region, judged_now(session), lang)
    output = {"html": render_html, "md": render_markdown}.get(fmt)
    click.echo(output(model) if output else json.dumps({k: v for k, v in model.items() if k != "labels"},
                                                      ensure_ascii=False, indent=1))


@tasks.command("progress")
@click.option("--by", "by", type=click.Choice(["province", "prefecture", "county"]), default="province", show_default=True)
@fail_on_config
def tasks_progress(by):
    """Task progress per province, prefecture or county: done, open, overdue."""
    from warning.clock import judged_now
    from warning.tasks import progress
    rt = start_runtime()
    with rt.sessions() as session:
        for row in progress(session, rt.config, by, judged_now(session)):
            share = "—" if row["done_share"] is None else f"{row['done_share']:.0%}"
            click.echo(f"{row['code']} {row['name']}: {row['tasks']} tasks, {row['done']} done ({share}), "
                       f"{row['overdue']} overdue")


@main.command()
@click.option("--area", default="000000", show_default=True, help="a province, prefecture or county code (000000: the nation)")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="first local day (default: 6 days before --until)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="last local day (default: today, Beijing time)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--xlsx", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="also write the Excel workbook here")
@fail_on_config
def report(area, start, until, lang, xlsx):
    """The outcome report for an area and period: its text, and the Excel workbook with --xlsx."""
    from zoneinfo import ZoneInfo

    from warning.models import utcnow
    from warning.outcomes import REPORT_ZONE
    from warning.report import report_model, report_text, report_workbook
    rt = start_runtime()
    if area not in rt.config.area_codes:
        raise InvalidConfig([f"--area: no province, prefecture or county {area} in config/regions"])
    until = until.date() if until else utcnow().astimezone(ZoneInfo(REPORT_ZONE)).date()
    start = start.date() if start else until - timedelta(days=6)
    if start > until:
        raise InvalidConfig([f"--start: {start} comes after --until {until}"])
    with rt.sessions() as session:
        model = report_model(session, rt.config, area, start, until, lang)
    click.echo(report_text(model), nl=False)
    if xlsx:
        xlsx.write_bytes(report_workbook(model))
        click.echo(f"wrote {xlsx}", err=True)


@main.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="first Beijing day of cycles to score (default: all)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="last Beijing day of cycles to score")
@click.option("--by", help="also break down by lead_d, province and/or month, comma-separated (default: lead_d)")
@click.option("--province", help="only this province's regions (a code as 220000)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="the same figures as GET /api/v1/verification answers")
@fail_on_config
def verify(since, until, by, province, lang, as_json):
    """Score every daily trigger against what later cycles saw: POD, FAR, CSI, lead times, Brier, reliability."""
    from warning.verification import Query, beijing_days, verification, verification_text
    rt = start_runtime()
    query = Query.checked(*beijing_days(since and since.date(), until and until.date()), by, province, prefix="--")
    with rt.sessions() as session:
        report = verification(session, query)
    if as_json:
        click.echo(json.dumps(report, default=lambda t: t.isoformat(), ensure_ascii=False, indent=2))
    else:
        click.echo(verification_text(report, lang), nl=False)


@main.group()
def subscriptions():
    """Subscribers (webhook, robots, e-mail, SMS) added from the command line; subscriptions.yaml is synced."""


@subscriptions.command("add")
@click.option("--name", required=True)
@click.option("--url", required=True, help="http(s) URL; for e-mail mailto:a@x,b@y")
@click.option("--channel", type=click.Choice(CHANNELS), default="webhook", show_default=True)
@click.option("--secret", "secrets", multiple=True,
              help="webhook: whsec_… (two during key rotation); dingtalk: its SEC… signing secret; sms: gateway key")
@click.option("--region", "regions", multiple=True, help="county, prefecture or province code; none: everywhere")
@click.option("--events", help="comma-separated event types (default: the county-facing ones)")
@click.option("--format", "fmt", type=click.Choice(["json", "cap", "alertmanager"]), default="json", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--to", "phones", multiple=True, help="sms: a recipient's phone number")
@click.option("--body", help="sms: the gateway's JSON body with {to} {to_list} {text} {id} {secret}")
@click.option("--batch", type=int, help="JSON webhooks: up to this many events per POST, as one `batch` body")
@click.option("--by", "actor", default="cli")
@fail_on_config
def subscriptions_add(name, url, channel, secrets, regions, events, fmt, lang, phones, body, batch, actor):
    """Add a subscriber; the URL's host must resolve to a public address unless private targets are allowed."""
    from warning.subscriptions import add_subscription
    rt = start_runtime()
    fields = {"name": name, "url": url, "channel": channel, "secrets": list(secrets), "regions": list(regions),
              "format": fmt, "lang": lang, "to": list(phones), "batch": batch}
    if events:
        fields["events"] = [e.strip() for e in events.split(",") if e.strip()]
    if body:
        try:
            fields["body"] = json.loads(body)
        except ValueError as error:
            raise InvalidConfig([f"--body: not JSON: {error}"]) from None
    with rt.sessions.begin() as session:
        add_subscription(session, fields, "cli", rt.settings.delivery.allow_private_targets, actor)
    click.echo(f"subscription {name} added")


@subscriptions.command("list")
@fail_on_config
def subscriptions_list():
    """Every subscriber with its state and what is waiting or parked for it (secrets are not shown)."""
    from sqlalchemy import select
    from notifiers.targets import redact
    from warning.models import Subscription
    from warning.subscriptions import parked_counts

    def render(session):
        counts = parked_counts(session)
        return "".join(f"{s.name}\t{s.source}\t{'enabled' if s.enabled else 'disabled: ' + (s.disabled_reason or '')}\t"
                       f"{s.channel}/{s.format}{batched(s)}\t{redact(s.url)}\t{','.join(s.regions) or 'everywhere'}\t"
                       f"parked={counts.get(s.id, 0)}\n"
                       for s in session.scalars(select(Subscription).order_by(Subscription.name)))
    echo_from_database(render)


def batched(subscription) -> str:
    return f" batch={subscription.options['batch']}" if subscription.options.get("batch") else ""


@subscriptions.command("remove")
@click.argument("name")
@click.option("--by", "actor", default="cli")
@fail_on_config
def subscriptions_remove(name, actor):
    """Disable a subscriber added by CLI or API; what it still had to send is parked."""
    from warning.subscriptions import remove_subscription
    rt = start_runtime()
    with rt.sessions.begin() as session:
        parked = remove_subscription(session, name, actor)
    click.echo(f"subscription {name} removed; {parked} pending message(s) parked")


@main.command("replay-parked")
@click.option("--message", "message_id", help="one message, by its webhook-id (msg_…)")
@click.option("--subscription", help="everything parked for this subscriber")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), help="with --subscription: parked messages created since (UTC)")
@click.option("--by", "actor", default="cli")
@fail_on_config
def replay_parked_command(message_id, subscription, since, actor):
    """Queue parked messages again (same webhook-id, fresh retry schedule); `coldwarn deliver` sends them."""
    from datetime import timezone
    from warning.subscriptions import replay_parked
    rt = start_runtime()
    with rt.sessions.begin() as session:
        count = replay_parked(session, actor, message_id, subscription, since.replace(tzinfo=timezone.utc) if since else None)
    click.echo(f"{count} message(s) queued again")
