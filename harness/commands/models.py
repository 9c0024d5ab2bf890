"""``moebench models``: the model catalog, or the shape of a model file, with parameter counts."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from harness.commands._common import console, print_json
from harness.workload import catalog_ids, load_model
from harness.workload.summary import check_kv_bytes, summarize_model
from harness.workload.quant import parse_quant


def register(app: typer.Typer) -> None:
    app.command("models")(models)


def models(
    model: Optional[list[str]] = typer.Option(
        None, "--model", "-m",
        help="Catalog id or path to a config.json, .gguf or model.safetensors.index.json "
             "(repeatable). Default: the whole catalog."),
    quant: Optional[str] = typer.Option(
        None, "--quant", "-q", help="Also show bytes under this quant recipe (e.g. q4_k_m, fp8)."),
    kv_bytes: float = typer.Option(2.0, "--kv-bytes", help="Bytes per KV-cache element, 0.25 to 4 (2 = fp16/bf16, 1 = fp8/q8)."),
    breakdown: bool = typer.Option(False, "--breakdown", help="Per-class table for each model."),
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List models with total and activated parameters, per-class breakdown and KV bytes/token."""
    check_kv_bytes(kv_bytes)
    recipe = parse_quant(quant) if quant is not None else None
    rows = [summarize_model(load_model(spec), recipe, kv_bytes) for spec in model or catalog_ids()]
    if json_out:
        print_json(rows)
        return
    console.print(_summary_table(rows, recipe is not None))
    if breakdown or model:
        for row in rows:
            console.print(_class_table(row))


def _b(n: float) -> str:
    """Billions (of weights or bytes); small values keep a unit so they do not read as zero."""
    if 0 < n < 1e7:
        return f"{n / 1e6:.2f}M" if n >= 1e4 else f"{n:,.0f}"
    value = n / 1e9
    return f"{value:,.1f}" if value >= 1000 else f"{value:,.2f}"


def _summary_table(rows: list[dict], with_quant: bool) -> Table:
    table = Table(title="Models (parameters in billions; GB = 1e9 bytes; layers = all/MoE; E/k = "
                  "experts/per token; KV KiB per token)", title_justify="left")
    width = max(len(r["id"]) for r in rows)
    table.add_column("id", no_wrap=True, min_width=min(width, 24))
    cols = ["total", "active", "E/k"]
    cols += ["quant", "GB", "GB/tok"] if with_quant else ["layers", "attn"]
    cols += ["KV KiB"]
    for col in cols:
        text = col in ("family", "attn", "quant")
        table.add_column(col, justify="left" if text else "right", min_width=None if text else 6,
                         no_wrap=not text, overflow="fold")
    for r in rows:
        cells = [r["id"], _b(r["total_params"]), _b(r["active_params"]),
                 f"{r['routed_experts']}/{r['experts_per_token']}"]
        if with_quant:
            cells += [r["quant"], _b(r["weight_bytes_total"]), _b(r["read_bytes_per_token_total"])]
        else:
            cells += [f"{r['layers']}/{r['moe_layers']}", r["attention"]]
        table.add_row(*cells, f"{r['kv_bytes_per_token'] / 1024:,.1f}")
    return table


def _class_table(row: dict) -> Table:
    table = Table(title=f"{row['id']}: by tensor class ({row['source']})", title_justify="left")
    cols = ["class", "total B", "active B", "read/token B"]
    exact = row.get("tensor_bytes") or row.get("file_class_bytes")
    cols += ["file GB"] if exact else []
    cols += ["weights GB", "read GB/token"] if "weight_bytes" in row else []
    table.add_column("class", no_wrap=True, min_width=14)
    for col in cols[1:]:
        table.add_column(col, justify="right", no_wrap=True)
    for cls, n in row["params"].items():
        cells = [cls, _b(n), _b(row["active_params_by_class"][cls]),
                 _b(row["read_params_by_class"][cls])]
        if exact:
            cells.append(_b(exact.get(cls, 0)))
        if "weight_bytes" in row:
            cells += [_b(row["weight_bytes"][cls]), _b(row["read_bytes_per_token"][cls])]
        table.add_row(*cells)
    return table
