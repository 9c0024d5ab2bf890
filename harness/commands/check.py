"""``moebench check --baseline SELECTOR``: run, store and compare in one go (the CI gate)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from harness.commands.compare import (ALPHA_OPTION, JSON_OPTION, SIDE_HELP, STORE_OPTION, THRESHOLD_OPTION,
                                      check_limits, emit)
from harness.documents.result import parse_tags
from harness.app.check import run_check
from harness.store import display_url, resolve_url


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_cmd(
        baseline: str = typer.Option(..., "--baseline", help="What to compare against. " + SIDE_HELP),
        quick: bool = typer.Option(False, "--quick", help="Short probes (use the same mode as the baseline)."),
        tag: List[str] = typer.Option([], "--tag", metavar="KEY=VALUE",
                                      help="Record a tag on the new run (repeatable)."),
        out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                           help="Also write result.json and report.html here."),
        threshold: float = THRESHOLD_OPTION,
        alpha: float = ALPHA_OPTION,
        as_json: bool = JSON_OPTION,
        store: Optional[str] = STORE_OPTION,
    ) -> None:
        """Run the benchmark, store it, compare with a baseline; exit 1 on a regression."""
        check_limits(threshold, alpha)
        run_id, comparison = run_check(baseline, url=store, quick=quick, tags=parse_tags(tag),
                                       out_dir=out, threshold=threshold / 100, alpha=alpha)
        typer.echo(f"stored run {run_id} in {display_url(resolve_url(store))}", err=as_json)
        emit(comparison, as_json)
