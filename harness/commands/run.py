"""``moebench run``: probe this machine, predict, write result.json and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.table import Table

from harness.commands._common import console, fmt, print_json, progress_bars
from harness.documents.result import parse_tags
from harness.app.api import check_run_inputs
from harness.app.run import run_benchmark, store_result


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    quick: bool = typer.Option(False, "--quick", help="Smaller arrays, fewer repeats (still far beyond the caches)."),
    model: Optional[list[str]] = typer.Option(None, "--model", "-m", help="Model id or config path (repeatable). Default: deepseek-v3."),
    quant: Optional[list[str]] = typer.Option(None, "--quant", "-q", help="Quant recipe (repeatable). Default: fp8 and q4_k_m."),
    tag: Optional[list[str]] = typer.Option(None, "--tag", "-t", help="key=value recorded with the run, e.g. bios=A (repeatable)."),
    out: str = typer.Option("moebench-out", "--out", "-o", metavar="DIR", help="Folder for result.json and report.html."),
    engine: str = typer.Option("auto", "--engine", help="Engine profile for the predictions."),
    store: Optional[str] = typer.Option(None, "--store", help="Results store URL (SQLite path/URL or PostgreSQL URL); default: MOEBENCH_STORE or the user data folder."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the run in the results store."),
    json_out: bool = typer.Option(False, "--json", help="Print the result JSON instead of the table."),
) -> None:
    """Probe this machine, predict DeepSeek-V3 tokens/s, write result.json and report.html."""
    tags = parse_tags(tag)
    check_run_inputs(models=model, quants=quant, engine=engine, out=out, store=store, use_store=not no_store)
    out_dir = Path(out)
    with progress_bars(not json_out) as progress:
        result = run_benchmark(quick=quick, models=model, quants=quant, tags=tags, out_dir=out_dir,
                               engine=engine, progress=progress)
    stored = None if no_store else store_result(result, store)
    if json_out:
        print_json(result)
        return
    print_summary(result)
    console.print(f"wrote {out_dir / 'result.json'} and {out_dir / 'report.html'}"
                  + (f"; stored as run {stored}" if stored else ""))


def print_summary(result: dict) -> None:
    m = result["machine"]
    triad = result["probes"].get("stream_triad", {})
    gpus = ", ".join(f"{g['count']}× {g['model']}" for g in m.get("gpus", [])) or "no NVIDIA GPU"
    console.print(f"[bold]{m.get('name')}[/]: {m.get('cpu_model')}, {m.get('sockets')} socket(s), "
                  f"{fmt(m.get('capacity_gb'), 0)} GB RAM, {gpus}")
    if triad:
        console.print(f"measured STREAM triad: [bold]{fmt(triad.get('best'))} GB/s[/] best, "
                      f"{fmt(triad.get('median'))} median, CV {100 * (triad.get('cv') or 0):.1f}%")
    else:
        console.print("measured STREAM triad: missing (see notes in result.json)")
    models = list(dict.fromkeys(p["inputs"]["model"] for p in result["predictions"]))
    for model in models:
        table = Table(title=f"{model}: predicted tokens/s at batch 1", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("quant", "placement", "engine", "decode", "prefill", "fits", "bottleneck"):
            table.add_column(col, justify="right" if col in ("decode", "prefill") else "left", no_wrap=True)
        for p in result["predictions"]:
            if p["inputs"]["model"] != model:
                continue
            table.add_row(p["inputs"]["quant"], p["placement"], p["engine"], fmt(p["decode_tokens_per_s"], 2),
                          fmt(p["prefill_tokens_per_s"]), "yes" if p["fits"] else "[red]no[/]", p["bottleneck"])
        console.print(table)
        for p in result["predictions"]:
            why = fit_text(p) if p["inputs"]["model"] == model else None
            if why:
                console.print(f"  {p['inputs']['quant']} · {p['placement']}: {why}")



def fit_text(p: dict) -> str | None:
    """What a placement that does not fit needs against what the machine has (None when it fits)."""
    if p["fits"]:
        return None
    cap = p.get("capacity") or {}
    for dev, label in (("host", "host memory"), ("gpu", "GPU memory")):
        if cap.get(f"{dev}_fits") is False:
            need, have = cap.get(f"{dev}_needed_bytes") or 0, cap.get(f"{dev}_usable_bytes") or 0
            return f"needs {need / 1e9:,.0f} GB of {label}, {have / 1e9:,.0f} GB usable"
    return "does not fit"
