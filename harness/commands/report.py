"""``moebench report RUN [RUN ...]``: the spec sheet of one run, or the comparison sheet of several."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from harness.errors import HarnessError
from harness.fsutil import atomic_write_text

SOURCE_HELP = "A result.json, a run folder (its result.json) or a run id / unique prefix in the results store."
MAX_VENDOR_CHARS = 120


def default_html_path(sources: list[str], results: list[dict[str, Any]]) -> Path:
    """Beside the result for one run folder or file; in the current folder otherwise."""
    if len(sources) == 1:
        path = Path(sources[0])
        if path.is_dir():
            return path / "report.html"
        if path.is_file():
            return path.with_name(f"{path.stem}.report.html" if path.name != "result.json" else "report.html")
        return Path(f"moebench-report-{str(results[0].get('run_id') or 'run')[:12]}.html")
    return Path("moebench-compare.html")


def write_text(target: str, text: str) -> str:
    """``-`` writes to stdout; anything else is a file, written atomically."""
    if target == "-":
        sys.stdout.write(text)
        return "-"
    return str(atomic_write_text(Path(target), text))


def build_outputs(results: list[dict[str, Any]], *, html: bool, markdown: bool, csv: bool,
                  vendor: str | None, logo: Path | None) -> dict[str, str]:
    """The requested documents' text, keyed by kind."""
    from harness import report

    logo_obj = report.load_logo(logo) if logo else None
    out: dict[str, str] = {}
    single = len(results) == 1
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


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        sources: list[str] = typer.Argument(..., metavar="RUN...", help=SOURCE_HELP + " Several: a comparison sheet, the first is the baseline."),
        html: Optional[str] = typer.Option(None, "--html", metavar="FILE", help="Write the HTML sheet here (default: report.html beside the result)."),
        markdown: Optional[str] = typer.Option(None, "--markdown", metavar="FILE", help="Also (or only) write Markdown; - for stdout."),
        csv: Optional[str] = typer.Option(None, "--csv", metavar="FILE", help="Also (or only) write the predictions as CSV; - for stdout."),
        vendor: Optional[str] = typer.Option(None, "--vendor", metavar="NAME", help="Vendor name for the sheet's header."),
        logo: Optional[Path] = typer.Option(None, "--logo", metavar="FILE", help="Vendor logo (PNG, JPEG, GIF, WebP or SVG, at most 512 KB), embedded."),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help="Results store to look run ids up in (default: $MOEBENCH_STORE or the embedded store)."),
        as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
    ) -> None:
        """Render the spec sheet of a run (HTML, Markdown, CSV), or compare several runs side by side."""
        from harness.report import load_source

        if vendor is not None and len(vendor) > MAX_VENDOR_CHARS:
            raise HarnessError(f"--vendor is {len(vendor)} characters; give at most {MAX_VENDOR_CHARS}")
        results = [load_source(s, store) for s in sources]
        want_html = html is not None or (markdown is None and csv is None)
        texts = build_outputs(results, html=want_html, markdown=markdown is not None, csv=csv is not None,
                              vendor=vendor, logo=logo)
        targets = {"html": html or str(default_html_path(sources, results)), "markdown": markdown, "csv": csv}
        written = {kind: write_text(targets[kind], text) for kind, text in texts.items()}
        if as_json:
            typer.echo(json.dumps(written, indent=2))
        else:
            for kind, path in written.items():
                if path != "-":
                    typer.echo(f"{kind}: {path}", err=True)
