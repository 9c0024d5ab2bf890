"""``moebench machines``: the built-in catalog of machine specs, usable as ``--machine <id>``."""

from __future__ import annotations

import typer
from rich.table import Table

from harness.commands._common import console, fmt, print_json
from harness.perf.devices import theoretical_bandwidth
from harness.documents.machines import load_machine, machine_ids


def register(app: typer.Typer) -> None:
    app.command("machines")(machines)


def machines(json_out: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the machine specs shipped with moebench."""
    rows = []
    for mid in machine_ids():
        m = load_machine(mid)
        rows.append({"id": mid, "name": m.name, "cpu": m.cpu_model, "sockets": m.sockets,
                     "memory_gb": m.capacity_gb, "host_bandwidth_gbs": theoretical_bandwidth(m),
                     "gpus": [f"{g.count}x {g.model}" for g in m.gpus], "nodes": m.nodes,
                     "price": m.price, "currency": m.currency, "price_date": m.price_date,
                     "price_source": m.price_source, "power_kw": m.power_kw, "machine": m.to_dict()})
    if json_out:
        print_json(rows)
        return
    table = Table(title="Machine catalog (use with --machine ID)", title_justify="left")
    table.add_column("id", no_wrap=True)  # what --machine takes: never cut
    for col in ("name", "GPUs"):
        table.add_column(col, overflow="fold", min_width=6)
    for col in ("GB/s", "RAM GB", "nodes"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("price", justify="right", overflow="fold", min_width=5)
    for r in rows:
        estimate = (r["price_source"] or "").upper().startswith("ESTIMATE")
        table.add_row(r["id"], r["name"], ", ".join(r["gpus"]) or "—", fmt(r["host_bandwidth_gbs"], 0),
                      fmt(r["memory_gb"], 0), str(r["nodes"]),
                      _short_money(r["price"], r["currency"]) + ("*" if estimate else ""))
    console.print(table)
    console.print("price: one box (one node of a cluster); * an estimate where no published price was found; "
                  "dates, sources and power draw in --json; `moebench plan --price ID=AMOUNT` overrides")


def _short_money(amount: float | None, currency: str | None) -> str:
    if not amount:
        return "—"
    text = f"{amount / 1e6:.3g}M" if amount >= 1e6 else f"{amount / 1e3:.3g}k" if amount >= 1e4 else f"{amount:,.0f}"
    return f"{text} {currency or ''}".strip()
