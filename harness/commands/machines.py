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
        table.add_column(col, overflow="fold")
    for col in ("host GB/s", "memory GB", "nodes", "price", "kW"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        estimate = (r["price_source"] or "").upper().startswith("ESTIMATE")
        price = "—" if not r["price"] else f"{r['price']:,.0f} {r['currency'] or ''}{' (est.)' if estimate else ''}"
        table.add_row(r["id"], r["name"], ", ".join(r["gpus"]) or "—", fmt(r["host_bandwidth_gbs"], 0),
                      fmt(r["memory_gb"], 0), str(r["nodes"]), price, fmt(r["power_kw"], 1))
    console.print(table)
    console.print("prices: one box (one node of a cluster), with a date and a source (`--json`); (est.) marks an "
                  "estimate where no published price was found; `moebench plan --price ID=AMOUNT` overrides")
