"""The printable task sheet, printed by headless Chromium: one A4 page, Chinese text in a CJK font."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from warning.cycle import run_cycle
from warning.render import render_html, sheet_model
from warning.sources import open_source

A4_POINTS = (595.0, 842.0)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (make test installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    return path


def print_to_pdf(html: str, tmp_path) -> PdfReader:
    page, pdf = tmp_path / "sheet.html", tmp_path / "sheet.pdf"
    page.write_text(html, encoding="utf-8")
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    return PdfReader(pdf)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_orange_county_sheet_prints_on_one_a4_page_in_chinese(make_runtime, tmp_path):
    rt = make_runtime()
    source = open_source(rt, "demo")
    run_cycle(rt, source, deliver=False)
    with rt.sessions() as session:
        html = render_html(sheet_model(session, rt.config, "220802", source.now, "zh"))
    reader = print_to_pdf(html, tmp_path)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - A4_POINTS[0]) < 2 and abs(float(box.height) - A4_POINTS[1]) < 2
    text = reader.pages[0].extract_text()
    for phrase in ("防寒救助任务单", "洮北区", "开放临时庇寒场所", "寒潮"):
        assert phrase in text, f"{phrase!r} missing from the printed sheet"
    assert any("CJK" in name for name in font_names(reader)), font_names(reader)


def font_names(reader: PdfReader) -> set[str]:
    """Chromium embeds fonts as Type 3 or Type 0; their names sit on the font or its descriptor."""
    names = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            names.add(str(font.get("/BaseFont") or (descriptor.get_object().get("/FontName") if descriptor else "")))
    return names
