"""HTML spec sheet from a result: Python builds a plain context, the jinja2 template lays it out.

Autoescaped, self-contained (inline CSS, no scripts, no external requests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from harness import __version__
from harness.fsutil import atomic_write_text
from harness.metrics import get_metric


def _fmt_num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _fmt_bytes(value: Any) -> str:
    if value is None:
        return "—"
    v = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(v) < 1000 or unit == "TB":
            return f"{v:,.1f} {unit}" if unit != "B" else f"{v:.0f} B"
        v /= 1000
    return f"{v:.1f} TB"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["num"] = _fmt_num
    env.filters["bytes"] = _fmt_bytes
    return env


def build_context(result: dict[str, Any]) -> dict[str, Any]:
    """Plain data for the template: every number already formatted."""
    machine = result.get("machine", {})
    system = machine.get("system", {})
    probes = [
        {"name": name, "best": get_metric(name).format(p.get("best")), "median": get_metric(name).format(p.get("median")),
         "cv": f"{100 * p['cv']:.1f}%" if p.get("cv") is not None else "—", "n": len(p.get("samples", []))}
        for name, p in sorted(result.get("probes", {}).items())
    ]
    preds = []
    for p in result.get("predictions", []):
        inp = p.get("inputs", {})
        preds.append({
            "model": inp.get("model"), "quant": inp.get("quant"), "placement": p.get("placement"),
            "engine": p.get("engine"), "decode": _fmt_num(p.get("decode_tokens_per_s"), 2),
            "prefill": _fmt_num(p.get("prefill_tokens_per_s"), 1), "ttft": _fmt_num(p.get("ttft_s"), 2),
            "fits": "yes" if p.get("fits") else "no", "bottleneck": p.get("bottleneck"),
            "memory": {dev: _fmt_bytes(sum(v.values())) for dev, v in p.get("memory", {}).items() if v},
            "assumptions": p.get("assumptions", []),
        })
    gpus = [f"{g.get('count', 1)}× {g.get('model')} ({_fmt_num(g.get('memory_gb'), 0)} GB)" for g in machine.get("gpus", [])]
    return {
        "title": f"moebench — {machine.get('name', 'machine')}",
        "machine_name": machine.get("name"), "harness_version": result.get("harness_version", __version__),
        "run_id": result.get("run_id"), "started_at": result.get("started_at"),
        "tags": sorted((result.get("tags") or {}).items()),
        "hardware": [
            ("CPU", machine.get("cpu_model") or "unknown"),
            ("Sockets × cores", f"{machine.get('sockets')} × {machine.get('cores_per_socket')}"),
            ("NUMA nodes", machine.get("numa_nodes")),
            ("Memory", f"{_fmt_num(machine.get('capacity_gb'), 0)} GB {machine.get('memory_type') or ''}".strip()),
            ("Theoretical bandwidth", f"{_fmt_num(machine.get('theoretical_bandwidth_gbs'))} GB/s"),
            ("Measured triad", f"{_fmt_num(machine.get('measured_bandwidth_gbs'))} GB/s"),
            ("GPUs", ", ".join(gpus) or "none"),
            ("Kernel", system.get("kernel") or "unknown"),
            ("BIOS", " ".join(str(x) for x in (system.get("bios_vendor"), system.get("bios_version")) if x) or "unknown"),
        ],
        "probes": probes, "predictions": preds,
        "notes": list(machine.get("notes") or []),
    }


def render_report(result: dict[str, Any]) -> str:
    return environment().get_template("spec_sheet.html.j2").render(**build_context(result))


def write_report(result: dict[str, Any], path: Path) -> Path:
    return atomic_write_text(Path(path), render_report(result))
