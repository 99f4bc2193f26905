"""Screenshots of the console for the README: the demo (moved to today) served on loopback, a user
logged in, each page taken at 1400 and 390 pixels wide in Debian's Chromium (playwright, no download).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Needs the test extras (`make test` installs them) and `apt-get install chromium fonts-noto-cjk`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from warning.accounts import create_user
from warning.cycle import run_cycle
from warning.db import upgrade
from warning.runtime import Runtime
from warning.settings import SHIPPED_CONFIG_DIR, load_settings
from warning.sources import open_source
from warning.web import create_app

PASSWORD = "screenshots-only-1"
PAGES = {"overview": "/", "region": "/regions/220802"}
WIDTHS = (1400, 390)
SUBSCRIBERS = {1400: "jilin-relief-platform", 390: "changchun-hotline"}  # one added at each width


def serve_demo(root: Path) -> str:
    shutil.copytree(SHIPPED_CONFIG_DIR, root / "config")
    rt = Runtime.start(load_settings({"COLDWARN_CONFIG_DIR": str(root / "config"),
                                      "COLDWARN_DATABASE_URL": f"sqlite:///{root / 'coldwarn.db'}",
                                      "COLDWARN_INSTANCE_DIR": str(root / "instance"),
                                      "COLDWARN_SECURE_COOKIES": "0",
                                      "COLDWARN_ALLOW_PRIVATE_TARGETS": "1"}))  # the example URL resolves nowhere
    upgrade(rt.engine)
    run_cycle(rt, open_source(rt, "demo", to_today=True), deliver=False)
    with rt.sessions.begin() as session:
        create_user(session, "admin", "admin", None, PASSWORD, rt.config.area_codes, actor="screenshots")
    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def shoot(page, target: Path, whole: bool = False) -> None:
    page.screenshot(path=str(target), full_page=whole)
    print(target)


def preview_an_upload(page, base: str) -> None:
    """The caseload template for Changchun's 南关区 with one figure raised, uploaded as far as its preview."""
    template = page.request.get(f"{base}/caseload/template.csv?kind=caseload").text().lstrip("\ufeff")
    header, *rows = template.splitlines()
    row = next(r for r in rows if r.startswith("220102,")).split(",")
    row[2] = str(int(row[2]) + 40)
    page.goto(f"{base}/caseload")
    page.set_input_files("input[name=file]", files=[{"name": "南关区名册.csv", "mimeType": "text/csv",
                                                      "buffer": "\n".join([header, ",".join(row)]).encode()}])
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#preview")


def preview_an_override(page, base: str) -> None:
    """The rules form for Jilin: orange's fall raised to 14 °C there, previewed (nothing saved)."""
    page.goto(f"{base}/rules?section=cold_wave&area=220000")
    page.get_by_label("橙色 · 最低气温降幅").fill("14")
    page.get_by_role("button", name="预览变化").click()
    page.wait_for_selector("#preview")


def add_a_subscription(page, base: str, name: str) -> None:
    """A provincial platform's webhook added in the console: its secret shown once."""
    page.goto(f"{base}/subscriptions")
    page.fill("input[name=name]", name)
    page.fill("input[name=url]", "https://relief.example.gov.cn/coldwarn")
    page.fill("input[name=regions]", "220000")
    page.get_by_role("button", name="新增并生成密钥").click()
    page.wait_for_selector("#secret")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = serve_demo(Path(tempfile.mkdtemp()))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=name]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.get_by_role("button", name="登录").click()
            for name, path in PAGES.items():
                page.goto(base + path)
                shoot(page, args.out / f"{name}-{width}.png")
            preview_an_override(page, base)
            shoot(page, args.out / f"rules-form-{width}.png", whole=True)  # the form and its preview
            preview_an_upload(page, base)
            shoot(page, args.out / f"caseload-preview-{width}.png")
            add_a_subscription(page, base, SUBSCRIBERS[width])
            shoot(page, args.out / f"subscriptions-{width}.png")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
