"""The spec sheet in a real browser: headless Chromium takes a screenshot, prints it to PDF (at
most two A4 pages for one model), and its network log shows no request leaving the file.

Skipped only where Chromium is not installed (Debian: ``apt-get install -y chromium``).
Set MOEBENCH_SCREENSHOT_DIR to keep the screenshot and PDF for a look.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import report
from test_report import fake_upgrades, golden_result

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install -y chromium)")
A4_POINTS = (595.0, 842.0)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish in 90 s: {' '.join(cmd)}")
    return proc


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked the network for (the browser's own update/account pings carry
    no file:// isolation key and are ignored)."""
    data = json.loads(netlog.read_text())
    names = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = []
    for event in data["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "file://" in str(params.get("network_isolation_key")):
            urls.append(params["url"])
    return [u for u in urls if not u.startswith(("file:", "data:"))]


def pdf_pages(pdf: Path) -> tuple[int, list[tuple[float, float]]]:
    raw = pdf.read_bytes()
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    else:
        pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", raw))
    boxes = [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", raw)]
    return pages, boxes


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> dict[str, Any]:
    """The golden result rendered with the real predictor and real charts, then opened in Chromium."""
    tmp = tmp_path_factory.mktemp("browser")
    keep = Path(os.environ["MOEBENCH_SCREENSHOT_DIR"]) if os.environ.get("MOEBENCH_SCREENSHOT_DIR") else None
    html = report.render_report(golden_result(), vendor="Acme <b>Servers</b>", upgrade_fn=fake_upgrades)
    page = tmp / "report.html"
    page.write_text(html, encoding="utf-8")
    # The network check opens a copy without the CSP: the sheet itself must ask for nothing, not
    # merely have its requests blocked.
    open_copy = tmp / "report-no-csp.html"
    open_copy.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html), encoding="utf-8")
    shot, pdf, netlog = tmp / "report.png", tmp / "report.pdf", tmp / "net.json"
    runs = [
        chromium(tmp / "p1", "--window-size=1100,2400", f"--screenshot={shot}", page.as_uri()),
        chromium(tmp / "p2", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", f"--log-net-log={netlog}",
                 open_copy.as_uri()),
    ]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr[-2000:]
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for f in (shot, pdf, page):
            shutil.copy(f, keep / f.name)
    return {"html": html, "shot": shot, "pdf": pdf, "netlog": netlog, "tmp": tmp}


def test_screenshot_shows_a_drawn_page(sheet):
    from PIL import Image  # matplotlib's own dependency

    with Image.open(sheet["shot"]) as img:
        assert img.size == (1100, 2400)
        small = img.convert("RGB").resize((110, 240))
    colours = {c for _, c in small.getcolors(maxcolors=110 * 240)}
    not_white = sum(n for n, c in small.getcolors(maxcolors=110 * 240) if c != (255, 255, 255))
    assert len(colours) > 50, "the screenshot is nearly blank"
    assert not_white > 110 * 240 * 0.15
    assert any(r < 40 and 90 < g < 140 and b > 150 for r, g, b in colours), "no bar in the charts' blue"


def test_prints_on_at_most_two_a4_pages(sheet):
    pages, boxes = pdf_pages(sheet["pdf"])
    assert 1 <= pages <= 2, f"the sheet of one model printed on {pages} pages"
    assert boxes and all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in boxes), boxes


def test_no_request_leaves_the_file(sheet):
    assert page_requests(sheet["netlog"]) == []
    assert sheet["html"].count("<svg") >= 3


def test_network_check_sees_a_request_when_there_is_one(sheet):
    """The detector itself works: a page that loads an image over HTTP is caught."""
    canary = sheet["tmp"] / "canary.html"
    canary.write_text('<!doctype html><img src="http://127.0.0.1:9/x.png"><p>canary</p>')
    netlog = sheet["tmp"] / "canary.json"
    proc = chromium(sheet["tmp"] / "p3", "--no-pdf-header-footer", f"--print-to-pdf={sheet['tmp'] / 'c.pdf'}",
                    f"--log-net-log={netlog}", canary.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert page_requests(netlog) == ["http://127.0.0.1:9/x.png"]
