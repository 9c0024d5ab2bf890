"""``moebench probe``: measure this machine and print (or emit as JSON) what was found."""

from __future__ import annotations

import typer
from rich.table import Table

from harness.commands._common import console, fmt, print_json, progress_bars
from probes.runner import run_probes


def register(app: typer.Typer) -> None:
    app.command("probe")(probe)


def probe(
    quick: bool = typer.Option(False, "--quick", help="Smaller arrays and fewer repeats."),
    json_out: bool = typer.Option(False, "--json", help="Print the probe report as JSON (usable as --machine)."),
) -> None:
    """Measure memory bandwidth, CPU compute, inventory and GPUs of this machine."""
    with progress_bars(not json_out) as progress:
        report = run_probes(quick=quick, progress=progress).to_dict()
    if json_out:
        print_json(report)
        return
    sysinfo = report.get("system", {})
    console.print(f"[bold]{sysinfo.get('cpu_model')}[/]: {sysinfo.get('sockets')} socket(s), "
                  f"{sysinfo.get('cores')} cores / {sysinfo.get('threads')} threads, {sysinfo.get('numa_nodes')} NUMA node(s)")
    table = Table(title="Measurements", title_justify="left")
    for col in ("probe", "best", "median", "CV", "unit"):
        text = col in ("probe", "unit")
        table.add_column(col, justify="left" if text else "right", no_wrap=not text, overflow="fold")
    for name, p in report.get("probes", {}).items():
        table.add_row(name, fmt(p.get("best")), fmt(p.get("median")), f"{100 * (p.get('cv') or 0):.1f}%", p.get("unit", ""))
    console.print(table)
    gpu = report.get("gpu", {})
    if gpu.get("gpus"):
        for g in gpu["gpus"]:
            console.print(f"GPU {g.get('index')}: {g.get('name')}, {fmt((g.get('memory_total_bytes') or 0) / 1e9, 0)} GB, "
                          f"{fmt(g.get('theoretical_bandwidth_gbs'), 0)} GB/s theoretical")
    else:
        console.print(f"GPU: none ({gpu.get('reason') or 'no NVIDIA GPU'})")
    for note in report.get("notes", []):
        console.print(f"note: {note}")
