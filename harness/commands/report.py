"""``moebench report RUN [RUN ...]``: the spec sheet of one run, or the comparison sheet of several."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from harness.app.sources import report_files

SOURCE_HELP = "A result.json, a run folder (its result.json) or a run id / unique prefix in the results store."


HELP = {
    "sources": SOURCE_HELP + " Several: a comparison sheet, the first is the baseline.",
    "html": "Write the HTML sheet here (default: report.html beside the result).",
    "markdown": "Also (or only) write Markdown; - for stdout.",
    "csv": "Also (or only) write the predictions as CSV; - for stdout.",
    "vendor": "Vendor name for the sheet's header.",
    "logo": "Vendor logo (PNG, JPEG, GIF, WebP or SVG, at most 512 KB), embedded in the page.",
    "store": "Results store to look run ids up in (default: $MOEBENCH_STORE or the embedded store).",
}


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        sources: list[str] = typer.Argument(..., metavar="RUN...", help=HELP["sources"]),
        html: Optional[str] = typer.Option(None, "--html", metavar="FILE", help=HELP["html"]),
        markdown: Optional[str] = typer.Option(None, "--markdown", metavar="FILE", help=HELP["markdown"]),
        csv: Optional[str] = typer.Option(None, "--csv", metavar="FILE", help=HELP["csv"]),
        vendor: Optional[str] = typer.Option(None, "--vendor", metavar="NAME", help=HELP["vendor"]),
        logo: Optional[Path] = typer.Option(None, "--logo", metavar="FILE", help=HELP["logo"]),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=HELP["store"]),
        as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
    ) -> None:
        """Render the spec sheet of a run (HTML, Markdown, CSV), or compare several runs side by side."""
        written = report_files(sources, html=html, markdown=markdown, csv=csv, vendor=vendor, logo=logo,
                               store_url=store)
        if as_json:
            typer.echo(json.dumps(written, indent=2))
            return
        for kind, path in written.items():
            if path != "-":
                typer.echo(f"{kind}: {path}", err=True)
