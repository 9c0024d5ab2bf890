"""``moebench compare BASE CAND``: per-metric verdicts from the samples; exit 1 on a regression."""

from __future__ import annotations

import json
from typing import Optional

import typer

from harness.analysis.compare import DEFAULT_ALPHA, DEFAULT_THRESHOLD, Comparison, format_comparison
from harness.errors import HarnessError
from harness.app.check import compare_selectors
from harness.store import STORE_HELP

SIDE_HELP = ("A run id (or unique prefix), a result.json or run directory, or a tag selector "
             "k=v[,k=v] pooling every matching run.")


# Options shared by `compare` and `check` (declared once so their help and defaults agree).
THRESHOLD_OPTION = typer.Option(DEFAULT_THRESHOLD * 100, "--threshold", metavar="PCT",
                                help="Smallest change of the medians that counts, in %.")
ALPHA_OPTION = typer.Option(DEFAULT_ALPHA, "--alpha", help="Significance level of the Mann–Whitney U test.")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
STORE_OPTION = typer.Option(None, "--store", metavar="URL", help=STORE_HELP)


def check_limits(threshold_pct: float, alpha: float) -> None:
    """Reject a threshold or alpha that would make every or no change count."""
    if not 0 <= threshold_pct < 1000:
        raise HarnessError(f"--threshold {threshold_pct:g} is not a percentage between 0 and 1000")
    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha {alpha:g} must lie between 0 and 1, e.g. 0.05")


def emit(comparison: Comparison, as_json: bool) -> None:
    """Print the comparison; exit 1 when anything regressed (the CI contract)."""
    if as_json:
        typer.echo(json.dumps(comparison.to_dict(), indent=2))
    else:
        typer.echo(format_comparison(comparison), nl=False)
    if comparison.regressed:
        # SystemExit reaches the shell and CliRunner alike, whatever click does with typer.Exit.
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare_cmd(
        base: str = typer.Argument(..., metavar="BASE", help="Baseline. " + SIDE_HELP),
        cand: str = typer.Argument(..., metavar="CAND", help="Candidate. " + SIDE_HELP),
        threshold: float = THRESHOLD_OPTION,
        alpha: float = ALPHA_OPTION,
        as_json: bool = JSON_OPTION,
        store: Optional[str] = STORE_OPTION,
    ) -> None:
        """Compare two runs or groups of runs; exit 1 if any metric regressed."""
        check_limits(threshold, alpha)
        emit(compare_selectors(base, cand, url=store, threshold=threshold / 100, alpha=alpha),
             as_json)
