"""``moebench validate``: predictions against published measurements, with the error shown."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.table import Table

from harness.commands._common import console, print_json
from harness.calibration.rows import holdout_path
from harness.errors import HarnessError
from harness.app.validate import validate
from harness.app.validate_serving import validate_serving


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_cmd)


def validate_cmd(
    rows: Optional[Path] = typer.Option(
        None, "--rows", help="Score the rows of this CSV (the calibration format: your own measurements) instead "
                             "of the packaged calibration set."),
    holdout: bool = typer.Option(False, "--holdout", help="Score the packaged held-out rows: published measurements "
                                                          "the engine profiles were never fitted on."),
    serving: bool = typer.Option(False, "--serving", help="Simulate the published serving benchmarks (many users) "
                                                          "and score throughput, TPOT and TTFT."),
    json_out: bool = typer.Option(False, "--json", help="Print rows and scores as JSON."),
) -> None:
    """Predict every calibration row; print predicted vs measured, error, MAPE and the rule of thumb's MAPE."""
    if rows is not None and holdout:
        raise HarnessError("give --rows FILE or --holdout, not both")
    if serving:
        if holdout:
            raise HarnessError("--serving scores the serving rows; --holdout is for batch-1 rows")
        result = validate_serving(rows)
        if json_out:
            print_json(result)
        else:
            print_serving_validation(result)
        return
    result = validate(holdout_path() if holdout else rows)
    if json_out:
        print_json(result)
        return
    print_validation(result)


def print_validation(result: dict) -> None:
    title = "Decode tok/s: predicted vs published measurements (batch 1)"
    if result.get("source", "").startswith("held-out set"):
        title = "Decode tok/s: predicted vs published measurements never fitted on (held out, batch 1)"
    elif not result.get("source", "").startswith("calibration set"):
        title = f"Decode tok/s: predicted vs measured, rows of {result['source']} (batch 1)"
    table = Table(title=title, title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    # numbers and the short engine/placement names never truncate; on a narrow terminal the row id folds
    table.add_column("row", overflow="fold")
    for col in ("engine", "placement"):
        table.add_column(col, no_wrap=True)
    for col in ("measured", "predicted", "error", "thumb"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for r in result["rows"]:
        rot = r["rule_of_thumb_error_pct"]
        table.add_row(r["id"], r["engine"], r["placement"], f"{r['measured_tok_s']:.2f}", f"{r['predicted_tok_s']:.2f}",
                      f"{r['error_pct']:+.0f}%", "—" if rot is None else f"{rot:+.0f}%")
    console.print(table)
    console.print(f"MAPE {result['mape_pct']:.1f}% (median {result['median_ape_pct']:.1f}%) over {result['count']} rows "
                  f"({result['within_1_5x']} within ×1.5); rule of thumb ('thumb': bandwidth ÷ activated bytes): "
                  f"MAPE {result['rule_of_thumb_mape_pct']:.1f}%")
    if result["prefill_count"]:
        console.print(f"prefill: MAPE {result['prefill_mape_pct']:.1f}% over {result['prefill_count']} rows with a "
                      "published prefill figure (prefill depends on kernels far more than decode does)")
    else:
        console.print("prefill: no row has a prefill figure")
    for a in result.get("aggregate_rows", []):
        console.print(f"multi-node {a['id']}: at {a['batch']} concurrent sequences over {a['nodes']} nodes, predicted "
                      f"{a['predicted_per_user_tok_s']:.1f} tok/s per user (published {a['measured_per_user_tok_s']:.0f}) "
                      f"and {a['predicted_per_node_tok_s']:,.0f} tok/s per node (published "
                      f"{a['measured_per_node_tok_s']:,.0f}); {a['assumption']}")
    for s in result["skipped"]:
        console.print(f"  skipped {s['id']}: {s['why']}")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}%"


def print_serving_validation(result: dict) -> None:
    table = Table(title="Serving benchmarks: simulated / measured (ratio)", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("row", overflow="fold")
    for col in ("engine", "load", "tok/s", "TPOT", "TTFT"):
        table.add_column(col, justify="left" if col in ("engine", "load") else "right", no_wrap=True)
    for r in result["rows"]:
        tput = "output_throughput" if r.get("ratio_input_throughput") is None else "input_throughput"
        table.add_row(r["id"] + (" *" if r.get("assumptions") else ""), f"{r['engine']}@{r['engine_version'] or '?'}",
                      r["load"],
                      *[("—" if r.get(f"ratio_{n}") is None else f"×{r[f'ratio_{n}']:.2f}")
                        for n in (tput, "tpot_ms", "ttft_ms")])
    console.print(table)
    console.print("tok/s: output tokens/s, or a prefill node's input tokens/s")
    for r in (r for r in result["rows"] if r.get("assumptions")):
        console.print(f"  * {r['id']}: " + "; ".join(r["assumptions"]))
    for label, s in (("in sample (rows the fit read)", result["in_sample"]),
                     ("out of sample (rows the fit never read)", result["out_of_sample"]),
                     ("leave one source out (the shipped rows)", result["leave_one_source_out"])):
        if not s:
            continue
        console.print(f"{label}: output throughput MAPE {_pct(s['output_throughput_mape_pct'])} (median "
                      f"{_pct(s['output_throughput_median_ape_pct'])}, {s['rows']} rows); TPOT MAPE "
                      f"{_pct(s['tpot_ms_mape_pct'])} (median {_pct(s['tpot_ms_median_ape_pct'])}); TTFT within ×2 in "
                      f"{s['ttft_within_2x']} of {s['ttft_count']} rows"
                      + (f"; prefill nodes' input throughput MAPE {_pct(s['prefill_input_throughput_mape_pct'])} "
                         f"({s['prefill_count']} rows)" if s.get("prefill_count") else ""))
    rerun = result.get("leave_one_source_out_rerun")
    if rerun:
        for label, s in ((f"  rerun so far with the shipped constants ({len(rerun['sources'])} of {rerun['of_sources']} "
                          f"sources: {', '.join(rerun['sources'])})", rerun["mape"]),
                         ("  the same rows in the earlier folds", rerun["earlier_folds_same_rows"])):
            console.print(f"{label}: output throughput MAPE {_pct(s['output_throughput_mape_pct'])} (median "
                          f"{_pct(s['output_throughput_median_ape_pct'])}, {s['rows']} rows); TPOT MAPE "
                          f"{_pct(s['tpot_ms_mape_pct'])}; TTFT within ×2 in {s['ttft_within_2x']} of {s['ttft_count']}")
    console.print(f"  · {result['leave_one_source_out']['note']}; constants: "
                  + ", ".join(f"{k} {v:g}" for k, v in result["constants"].items()))
    console.print(f"{len(result['skipped'])} rows skipped (reasons with --json)")
