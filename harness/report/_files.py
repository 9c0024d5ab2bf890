"""``moebench report`` as a function: load the runs, render what was asked for, write it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness import report
from harness.documents.result import Result
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text, safe_name

MAX_VENDOR_CHARS = 120


def default_html_path(sources: Sequence[str], results: Sequence[Result | Mapping[str, Any]]) -> Path:
    """Beside the result for one run folder or file; in the current folder otherwise."""
    if len(sources) == 1:
        path = Path(sources[0])
        if path.is_dir():
            return path / "report.html"
        if path.is_file():
            return path.with_name("report.html" if path.name == "result.json" else f"{path.stem}.report.html")
        run_id = Result.from_json(results[0], "result").run_id
        return Path(f"moebench-report-{safe_name(str(run_id or 'run'))[:12]}.html")
    return Path("moebench-compare.html")


def render_outputs(results: Sequence[Result | Mapping[str, Any]], *, html: bool = True, markdown: bool = False,
                   csv: bool = False, vendor: str | None = None, logo: Path | None = None) -> dict[str, str]:
    """The requested documents' text by kind: one result gives its spec sheet, several a comparison.
    Mappings are checked as result.json files are (``Result.from_json``), once, here."""
    results = [Result.from_json(r, "result") for r in results]
    if not results:
        raise HarnessError("no run given — name a result.json, a run folder or a run id")
    if vendor is not None and len(vendor) > MAX_VENDOR_CHARS:
        raise HarnessError(f"--vendor is {len(vendor)} characters; give at most {MAX_VENDOR_CHARS}")
    logo_obj = report.load_logo(logo) if logo else None
    single = len(results) == 1
    out: dict[str, str] = {}
    if html:
        out["html"] = (report.render_report(results[0], vendor=vendor, logo=logo_obj) if single
                       else report.render_comparison(results, vendor=vendor, logo=logo_obj))
    if markdown:
        out["markdown"] = (report.render_markdown(results[0], vendor=vendor) if single
                           else report.render_comparison_markdown(results))
    if csv:
        texts = [report.render_csv(r) for r in results]
        out["csv"] = texts[0] + "".join(t.split("\n", 1)[1] for t in texts[1:])
    return out


def write_output(target: str, text: str) -> str:
    """``-`` writes to stdout; anything else is a file, written atomically."""
    if target == "-":
        sys.stdout.write(text)
        return "-"
    return str(atomic_write_text(Path(target), text))
