"""``moebench history``: stored runs as a table, trends per metric with change points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from harness.commands.compare import check_limits
from harness.analysis.compare import DEFAULT_ALPHA, DEFAULT_THRESHOLD
from harness.fsutil import atomic_write_text
from harness.analysis.history import check_history_options, format_history, history_to_dict
from harness.app.history import load_history
from harness.report.history import render_html
from harness.documents.result import parse_tags
from harness.store import STORE_HELP
from harness.store.io import check_out_file


def register(app: typer.Typer) -> None:
    @app.command("history")
    def history_cmd(
        tag: List[str] = typer.Option([], "--tag", metavar="KEY=VALUE",
                                      help="Only runs with this tag (repeatable; all must match)."),
        metric: List[str] = typer.Option([], "--metric", metavar="NAME",
                                         help="Metric to show; globs allowed, e.g. 'decode_tokens_per_s@*' (repeatable)."),
        threshold: float = typer.Option(DEFAULT_THRESHOLD * 100, "--threshold", metavar="PCT",
                                        help="Smallest step, in %, marked as a change point."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        html: Optional[Path] = typer.Option(None, "--html", metavar="FILE",
                                            help="Write an HTML page with a trend chart per metric."),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
    ) -> None:
        """List stored runs and the trend of each metric, with change points marked."""
        tags = parse_tags(tag)
        check_limits(threshold, DEFAULT_ALPHA)
        check_history_options(metric, threshold / 100)
        if html is not None:
            check_out_file(html, "--html")  # before the store is read, not after
        history = load_history(store, tags, metric, threshold / 100)
        if html is not None:
            selector = ",".join(f"{k}={v}" for k, v in tags.items())
            atomic_write_text(html, render_html(history, selector))
        if as_json:
            typer.echo(json.dumps(history_to_dict(history), indent=2))
        else:
            typer.echo(format_history(history, explicit=bool(metric)), nl=False)
        if html is not None:
            typer.echo(f"wrote {html}", err=as_json)
