"""Reports: the HTML spec sheet a vendor publishes and a buyer prints, its Markdown and CSV
forms, and the comparison sheet (BIOS A vs B).

Python builds a plain context (``build_context``: numbers formatted, charts as data); jinja2
templates in ``reports/templates`` lay it out with autoescape on; charts become inline SVG
(``harness.report.charts``). The HTML is self-contained: inline CSS and SVG, no script, no request
(a Content-Security-Policy forbids them), and a print stylesheet for A4.

    render_report(result) -> str                  write_report(result, path) -> Path
    render_markdown(result) -> str                render_csv(result) -> str
    render_comparison([a, b, ...]) -> str         render_outputs([result, ...], html=..., markdown=...)

Each takes a ``harness.documents.result.Result`` or a mapping; a mapping is checked once, at the
entry, exactly as a result.json file is (``Result.from_json``), and everything inside reads the
typed records.

Finding a result from what a user typed (a run id in the store, a folder) is the application's
job: ``harness.app.sources.load_source`` and ``report_files``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.documents.result import Result
from harness.fsutil import atomic_write_text
from harness.report._compare import build_comparison_context, run_labels
from harness.report._context import Logo, build_context
from harness.report._curves import PredictFn, UpgradeFn
from harness.report._export import render_csv_text, render_markdown_text
from harness.report._files import default_html_path, render_outputs, write_output
from harness.report._render import ChartRenderer, render
from harness.report._logo import load_logo

SPEC_TEMPLATE = "spec_sheet.html.j2"
COMPARE_TEMPLATE = "compare.html.j2"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def render_report(result: Result | Mapping[str, Any], *, vendor: str | None = None, logo: Logo | None = None,
                  predict_fn: PredictFn | None = None, upgrade_fn: UpgradeFn | None | str = "auto",
                  generated_at: str | None = None, chart_renderer: ChartRenderer | None = None) -> str:
    """The spec sheet of one result as a self-contained HTML page."""
    context = build_context(Result.from_json(result, "result"), vendor=vendor, logo=logo, predict_fn=predict_fn, upgrade_fn=upgrade_fn,
                            generated_at=generated_at or _now())
    return render(SPEC_TEMPLATE, context, *([chart_renderer] if chart_renderer else []))


def write_report(result: Result | Mapping[str, Any], path: Path, **options: Any) -> Path:
    """``render_report`` written atomically to ``path``."""
    return atomic_write_text(Path(path), render_report(result, **options))


def render_markdown(result: Result | Mapping[str, Any], *, vendor: str | None = None,
                    predict_fn: PredictFn | None = None, upgrade_fn: UpgradeFn | None | str = "auto",
                    generated_at: str | None = None) -> str:
    """The spec sheet's tables as Markdown (no charts)."""
    context = build_context(Result.from_json(result, "result"), vendor=vendor, predict_fn=predict_fn, upgrade_fn=upgrade_fn,
                            generated_at=generated_at or _now())
    return render_markdown_text(context)


def render_csv(result: Result | Mapping[str, Any]) -> str:
    """One CSV row per prediction, raw numbers."""
    return render_csv_text(Result.from_json(result, "result"))


def render_comparison(results: Sequence[Result | Mapping[str, Any]], *, vendor: str | None = None,
                      logo: Logo | None = None, generated_at: str | None = None,
                      chart_renderer: ChartRenderer | None = None) -> str:
    """Several results side by side as one HTML page; the first is the baseline."""
    runs = [Result.from_json(r, "result") for r in results]
    context = build_comparison_context(runs, vendor=vendor, logo=logo, generated_at=generated_at or _now())
    return render(COMPARE_TEMPLATE, context, *([chart_renderer] if chart_renderer else []))


def render_comparison_markdown(results: Sequence[Result | Mapping[str, Any]], *,
                               generated_at: str | None = None) -> str:
    """The comparison sheet's tables as Markdown; the first result is the baseline."""
    runs = [Result.from_json(r, "result") for r in results]
    context = build_comparison_context(runs, generated_at=generated_at or _now())
    return render_markdown_text(context, "compare.md.j2")


__all__ = [
    "Logo", "build_comparison_context", "build_context", "default_html_path", "load_logo",
    "render_comparison", "render_comparison_markdown", "render_csv", "render_markdown", "render_outputs",
    "render_report", "run_labels", "write_output", "write_report",
]
