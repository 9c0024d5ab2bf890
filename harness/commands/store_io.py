"""``moebench import FILES...`` and ``moebench export RUN --out F``: result files <-> a store."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from harness.store import STORE_HELP, display_url, export_run, import_results, resolve_url


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        paths: List[Path] = typer.Argument(..., metavar="FILES", help="result.json files or directories to scan."),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
    ) -> None:
        """Store result.json files; broken ones are skipped with a warning."""
        report = import_results(paths, url=store)
        typer.echo(f"{report.summary()} into {display_url(resolve_url(store))}")

    @app.command("export")
    def export_cmd(
        run: str = typer.Argument(..., metavar="RUN", help="Run id or unique prefix."),
        out: Path = typer.Option(..., "--out", metavar="FILE", help="Where to write result.json."),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
    ) -> None:
        """Write a stored run back out as result.json."""
        typer.echo(f"wrote {export_run(run, out, url=store)}")
