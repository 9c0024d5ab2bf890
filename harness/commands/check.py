"""``moebench check --baseline SELECTOR``: run, store and compare in one go (the CI gate)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from harness.commands.compare import SIDE_HELP, check_limits, emit
from harness.compare import DEFAULT_ALPHA, DEFAULT_THRESHOLD
from harness.results import parse_tags
from harness.store import STORE_HELP, display_url, resolve_url, run_check


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_cmd(
        baseline: str = typer.Option(..., "--baseline", help="What to compare against. " + SIDE_HELP),
        quick: bool = typer.Option(False, "--quick", help="Short probes (use the same mode as the baseline)."),
        tag: List[str] = typer.Option([], "--tag", metavar="KEY=VALUE",
                                      help="Record a tag on the new run (repeatable)."),
        out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                           help="Also write result.json and report.html here."),
        threshold: float = typer.Option(DEFAULT_THRESHOLD * 100, "--threshold", metavar="PCT",
                                        help="Smallest change of the medians that counts, in %."),
        alpha: float = typer.Option(DEFAULT_ALPHA, "--alpha",
                                    help="Significance level of the Mann–Whitney U test."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        store: Optional[str] = typer.Option(None, "--store", metavar="URL", help=STORE_HELP),
    ) -> None:
        """Run the benchmark, store it, compare with a baseline; exit 1 on a regression."""
        check_limits(threshold, alpha)
        run_id, comparison = run_check(baseline, url=store, quick=quick, tags=parse_tags(tag),
                                       out_dir=out, threshold=threshold / 100, alpha=alpha)
        typer.echo(f"stored run {run_id} in {display_url(resolve_url(store))}", err=as_json)
        emit(comparison, as_json)
