"""Shared fixtures: a private copy of the config, a database (SQLite or PostgreSQL), a runtime."""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from warning.db import make_engine, upgrade
from warning.runtime import Runtime
from warning.settings import SHIPPED_CONFIG_DIR, load_settings

POSTGRES_URL = os.environ.get("COLDWARN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
TEST_SECRET = "whsec_" + base64.b64encode(b"coldwarn-test-secret-32-bytes!!!").decode()


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A copy of the shipped config that a test may edit."""
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG_DIR, target)
    return target


def postgres_available() -> bool:
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres() -> str:
    if not postgres_available():
        message = f"PostgreSQL not reachable at {POSTGRES_URL}"
        if os.environ.get("CI"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
def postgres_schema_url(postgres):
    """A URL whose connections use a fresh schema, dropped afterwards."""
    schema = f"cw_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{postgres}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coldwarn.db'}"
    return request.getfixturevalue("postgres_schema_url")


def settings_env(config_dir: Path, database_url: str, tmp_path: Path, **extra) -> dict:
    return {"COLDWARN_CONFIG_DIR": str(config_dir), "COLDWARN_DATABASE_URL": database_url,
            "COLDWARN_INSTANCE_DIR": str(tmp_path / "instance"), "COLDWARN_ALLOW_PRIVATE_TARGETS": "1",
            "COLDWARN_SECURE_COOKIES": "0", **extra}


@pytest.fixture
def make_runtime(config_dir, database_url, tmp_path):
    """Start a migrated runtime on the test database; call again after editing the config."""
    started = []

    def start(**env) -> Runtime:
        rt = Runtime.start(load_settings(settings_env(config_dir, database_url, tmp_path, **env)))
        upgrade(rt.engine)
        started.append(rt)
        return rt

    yield start
    for rt in started:
        rt.close()


def read_regions(config_dir: Path) -> list[dict]:
    import csv
    with open(config_dir / "regions" / "regions.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def edit_rules(config_dir: Path, edit) -> None:
    """Change config/rules.yaml as a document (`edit(document)`), its comments kept."""
    import io

    from warning.rules_form import round_trip
    rules, yaml = config_dir / "rules.yaml", round_trip()
    document = yaml.load(rules.read_text(encoding="utf-8"))
    edit(document)
    written = io.StringIO()
    yaml.dump(document, written)
    rules.write_text(written.getvalue(), encoding="utf-8")


def write_regions(config_dir: Path, rows: list[dict]) -> None:
    """Replace the region list, and drop the shipped rule overrides of areas it no longer lists."""
    import csv
    listed = {row[key] for row in rows for key in ("code", "province_code", "prefecture_code")}

    def drop_unlisted(document) -> None:
        for code in [c for c in document["overrides"] if str(c) not in listed]:
            del document["overrides"][code]
    edit_rules(config_dir, drop_unlisted)
    with open(config_dir / "regions" / "regions.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def keep_only_jilin(config_dir: Path) -> None:
    """Jilin's 60 counties only."""
    write_regions(config_dir, [r for r in read_regions(config_dir) if r["province_code"] == "220000"])


def write_subscription(config_dir: Path, url: str, **fields) -> None:
    import yaml
    entry = {"name": "receiver", "url": url, "secrets": [TEST_SECRET], **fields}
    (config_dir / "subscriptions.yaml").write_text(yaml.safe_dump({"subscriptions": [entry]}), encoding="utf-8")


def received_events(httpserver, path: str | None = None) -> list[dict]:
    """What a receiver got, each webhook verified with the reference Standard Webhooks library and
    checked against the published schema of its type (docs/schemas/); a batch is checked as a whole,
    then each of its events, which are returned in its place (each with its id)."""
    import jsonschema
    from standardwebhooks.webhooks import Webhook
    from notifiers.schemas import event_schema
    events = []
    for request, _ in httpserver.log:
        if path is None or request.path == path:
            body = Webhook(TEST_SECRET).verify(request.get_data(), dict(request.headers))
            batch = body["data"]["events"] if body["type"] == "batch" else []
            for event in [body, *batch]:
                jsonschema.validate(event, event_schema(event["type"]), format_checker=jsonschema.FormatChecker())
            events.extend(batch or [body])
    return events


@pytest.fixture
def api(make_runtime):
    """Call the API as admin root, province jilin (220000) or beijing (110000), county nanguan (220102)
    or viewer watcher: api(method, path, who, json=…)."""
    from warning.accounts import create_token, create_user
    from warning.web import create_app
    rt = make_runtime()
    tokens = {}
    with rt.sessions.begin() as session:
        for name, role, region in [("root", "admin", None), ("jilin", "province", "220000"),
                                   ("beijing", "province", "110000"), ("nanguan", "county", "220102"),
                                   ("watcher", "viewer", None)]:
            create_user(session, name, role, region, PASSWORD, rt.config.area_codes, actor="test")
            tokens[name] = create_token(session, name, "test", actor="test")
    client = create_app(rt).test_client()

    def call(method, path, who=None, **kw):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        return client.open(path, method=method, headers=headers, **kw)
    call.rt, call.tokens, call.client = rt, tokens, client
    return call


def log_in(client, name: str, password: str = PASSWORD, base: str = ""):
    """Log a Flask test client or a requests.Session in through the login form, CSRF token and all."""
    import re
    page = client.get(base + "/login")
    text = page.get_data(as_text=True) if hasattr(page, "get_data") else page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    return client.post(base + "/login", data={"name": name, "password": password, "csrf_token": token})
