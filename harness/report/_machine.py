"""The sheet's hardware sections from a result's machine record: CPU, memory and DIMM lines, GPUs,
measured against theoretical bandwidth, the probe table and chart, reproducibility settings."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, Mapping, Sequence

from harness import __version__
from harness.documents.result import MachineRecord, ProbeRecord, Result
from harness.hardware.machine import GpuSpec, Machine
from harness.metrics import get_metric
from harness.report._format import (DASH, format_bytes, format_gb, format_gbs, format_money, format_pct,
                                    format_seconds, format_sig)
from harness.report.charts import Bar, Chart

GB = 1e9


def _when(value: Any) -> str:
    """ISO time as ``2026-11-25 08:00 UTC`` (the stored string when it is not ISO)."""
    if not value:
        return DASH
    text = str(value)
    if len(text) >= 16 and text[10] == "T":
        zone = text[19:]
        suffix = " UTC" if zone in ("Z", "+00:00", "") or zone.startswith(".") else f" {zone}"
        return f"{text[:10]} {text[11:16]}{suffix}"
    return text


# ISA features that decide which kernels an engine can use (AVX-512 for ik_llama.cpp, AMX for
# KTransformers' expert GEMMs): shown when /proc/cpuinfo lists them.
NOTABLE_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16", "amx_int8")


def _cpu_line(machine: Machine) -> str:
    sockets = machine.sockets or 1
    model = machine.cpu_model or "unknown CPU"
    parts = [f"{sockets} × {model}" if sockets > 1 else str(model)]
    if machine.cores_per_socket:
        parts.append(f"{machine.cores_per_socket * sockets} cores"
                     + (f", {machine.threads} threads" if machine.threads else ""))
    return " · ".join(parts)


def _memory_line(machine: Machine) -> str:
    bits = [format_gb(machine.capacity_gb) if machine.capacity_gb else "capacity unknown"]
    if machine.memory_type:
        bits.append(str(machine.memory_type) + (f"-{machine.speed_mts}" if machine.speed_mts else ""))
    if machine.channels:
        bits.append(f"{machine.channels} channels")
    return " · ".join(bits)


def dimm_summary(dimms: Sequence[Mapping[str, Any]], slots: int | None = None) -> str:
    """``24 × 48 GB DDR5 Samsung M321R8GA0PB0-CWMKH @ 6400 MT/s (24 of 24 slots)``."""
    if not dimms:
        return DASH
    groups = Counter(
        (d.get("size_bytes"), d.get("type"), d.get("manufacturer"), d.get("part_number"),
         d.get("configured_speed_mts") or d.get("speed_mts")) for d in dimms if isinstance(d, Mapping))
    lines = []
    for (size, typ, maker, part, speed), n in groups.most_common():
        size_txt = f"{size / 2**30:.0f} GB" if size else "? GB"  # DIMMs are sold in GiB called GB
        desc = " ".join(str(x) for x in (typ, maker, part) if x)
        lines.append(f"{n} × {size_txt} {desc}".strip() + (f" @ {speed} MT/s" if speed else ""))
    total = sum(groups.values())
    tail = f" ({total} of {slots} slots)" if slots else ""
    return "; ".join(lines) + tail


def grouped_gpus(machine: Machine) -> list[GpuSpec]:
    """Identical GPUs as one entry with their count: a probe lists each of 8 H200s on its own."""
    groups: dict[GpuSpec, GpuSpec] = {}
    for g in machine.gpus:
        key = dataclasses.replace(g, count=1)
        groups[key] = dataclasses.replace(g, count=groups[key].count + g.count) if key in groups else g
    return list(groups.values())


def _gpu_lines(machine: Machine) -> list[str]:
    out = []
    for g in grouped_gpus(machine):
        bits = [f"{g.count} × {g.model or 'GPU'}"]
        if g.unified_memory:
            bits.append("shares host memory")
        elif g.memory_gb:
            bits.append(format_gb(g.memory_gb))
        if g.bandwidth_gbs:
            bits.append(format_gbs(g.bandwidth_gbs))
        if g.bf16_tflops:
            bits.append(f"{format_sig(g.bf16_tflops)} TFLOP/s BF16")
        if g.pcie_gen:
            bits.append(f"PCIe {g.pcie_gen}.0 ×{g.pcie_width or '?'}")
        out.append(" · ".join(bits))
    return out


def _hardware(record: MachineRecord) -> list[tuple[str, str]]:
    machine, system, gpu_probe = record.machine, record.system, record.gpu_probe
    flags = [f for f in NOTABLE_FLAGS if f in machine.cpu_flags]
    rows = [("CPU", _cpu_line(machine)),
            ("ISA", ", ".join(flags) or DASH),
            ("NUMA nodes", str(machine.numa_nodes or 1)),
            ("L3 cache", format_bytes(system.get("l3_cache_bytes")) if system.get("l3_cache_bytes") else DASH),
            ("Memory", _memory_line(machine)),
            ("DIMMs", dimm_summary(system.get("dimms") or [], system.get("dimm_slots"))),
            ("Host bandwidth", _bandwidth_line(machine))]
    gpus = _gpu_lines(machine)
    rows += [("GPU", g) for g in gpus] or [("GPU", "none")]
    if gpu_probe.get("driver_version"):
        rows.append(("GPU driver", f"{gpu_probe['driver_version']} · CUDA {gpu_probe.get('cuda_version') or DASH}"))
    if (machine.nodes or 1) > 1:
        rows.append(("Cluster", f"{machine.nodes} nodes · {format_gbs(machine.interconnect_gbs)} per node"))
    if machine.price:
        rows.append(("Price", format_money(machine.price, machine.currency)))
    return rows


def _theoretical(machine: Machine) -> float | None:
    if machine.theoretical_bandwidth_gbs:
        return float(machine.theoretical_bandwidth_gbs)
    if machine.channels and machine.speed_mts:
        return machine.channels * machine.speed_mts * 8 / 1000
    return None


def _bandwidth_line(machine: Machine) -> str:
    theo, meas = _theoretical(machine), machine.measured_bandwidth_gbs
    if meas and theo:
        return f"{format_gbs(meas)} measured (STREAM triad) = {format_pct(meas / theo)} of {format_gbs(theo)} theoretical"
    if meas:
        return f"{format_gbs(meas)} measured (STREAM triad)"
    if theo:
        return f"{format_gbs(theo)} theoretical (channels × MT/s × 8 B), not measured"
    return DASH


# ---------------------------------------------------------------- probes and bandwidth

def _probe_rows(probes: Mapping[str, ProbeRecord]) -> list[dict[str, str]]:
    rows = []
    for name, p in sorted(probes.items()):
        metric = get_metric(name)
        rows.append({"name": name, "description": metric.description if metric.description != name else "",
                     "best": metric.format(p.best), "median": metric.format(p.median),
                     "cv": format_pct(p.cv, 1), "n": str(len(p.samples))})
    return rows


_BANDWIDTH_PROBES = (("stream_copy", "STREAM copy"), ("stream_scale", "STREAM scale"),
                     ("stream_add", "STREAM add"), ("stream_triad", "STREAM triad"),
                     ("moe_replay", "MoE expert replay"))


def _bandwidth_chart(machine: Machine, probes: Mapping[str, ProbeRecord]) -> Chart:
    theo = _theoretical(machine)
    bars = []
    if theo:
        label = f"Theoretical ({machine.channels} ch × {machine.speed_mts} MT/s)" if (
            machine.channels and machine.speed_mts) else "Theoretical"
        bars.append(Bar(label, theo, "theoretical"))
    for key, label in _BANDWIDTH_PROBES:
        best = probes[key].best if key in probes else None
        if best:
            bars.append(Bar(label, best, "measured", format_pct(best / theo) if theo else ""))
    for key in sorted(k for k in probes if k.startswith("stream_triad@")):
        best = probes[key].best
        if best:
            bars.append(Bar(f"STREAM triad, {key.split('@', 1)[1]}", best, "measured"))
    for g in grouped_gpus(machine):
        if g.bandwidth_gbs:
            bars.append(Bar(f"{g.model} (rated)", float(g.bandwidth_gbs), "GPU theoretical"))
        if g.measured_bandwidth_gbs:
            bars.append(Bar(f"{g.model} (measured)", float(g.measured_bandwidth_gbs), "GPU measured"))
    return Chart("bandwidth", "bars", "Memory bandwidth: measured vs theoretical", "GB/s", bars=tuple(bars))


# ---------------------------------------------------------------- reproducibility

def _onoff(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value in ("0", "1"):
        return "on" if value == "1" else "off"
    return str(value) if value not in (None, "") else DASH


def _reproducibility(result: Result) -> list[tuple[str, str]]:
    record, system = result.machine, result.machine.system
    probe = record.probe or {}
    settings = probe.get("settings") or {}
    bios = " ".join(str(system[k]) for k in ("bios_vendor", "bios_version") if system.get(k)) or DASH
    if system.get("bios_date"):
        bios += f" ({system['bios_date']})"
    rows = [("Product", str(system.get("product_name") or DASH)), ("Host name", str(system.get("hostname") or DASH)),
            ("BIOS", bios), ("Kernel", str(system.get("kernel") or DASH)),
            ("CPU governor", str(system.get("governor") or DASH)),
            ("Transparent huge pages", str(system.get("thp") or DASH)),
            ("NUMA balancing", _onoff(system.get("numa_balancing"))), ("SMT", _onoff(system.get("smt"))),
            # as written: the typed Machine says "result" for a record that names no source
            ("Machine source", str(record.raw.get("source") or DASH)),
            ("Fingerprint", str(record.fingerprint or DASH)),
            ("Run", str(result.run_id or DASH)),
            ("Started · finished", f"{_when(result.started_at)} · {_when(result.finished_at)}"),
            ("moebench (run · report)", f"{result.harness_version or DASH} · {__version__}")]
    if settings:
        rows.append(("Probe settings", ", ".join(f"{k}={_setting(v)}" for k, v in sorted(settings.items()))))
    if probe.get("duration_s"):
        rows.append(("Probe duration", format_seconds(probe["duration_s"])))
    return rows


def _setting(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_setting(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "×".join(_setting(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and value >= 2**20:
        return format_bytes(value)
    return str(value)
