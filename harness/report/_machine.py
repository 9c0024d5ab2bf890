"""The sheet's hardware sections from a result's machine record: CPU, memory and DIMM lines, GPUs,
measured against theoretical bandwidth, the probe table and chart, reproducibility settings."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from harness import __version__
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


def _cpu_line(machine: Mapping[str, Any]) -> str:
    sockets = machine.get("sockets") or 1
    model = machine.get("cpu_model") or "unknown CPU"
    cores = machine.get("cores_per_socket")
    parts = [f"{sockets} × {model}" if sockets > 1 else str(model)]
    if cores:
        parts.append(f"{cores * sockets} cores" + (f", {machine['threads']} threads" if machine.get("threads") else ""))
    return " · ".join(parts)


def _memory_line(machine: Mapping[str, Any]) -> str:
    bits = [format_gb(machine.get("capacity_gb")) if machine.get("capacity_gb") else "capacity unknown"]
    if machine.get("memory_type"):
        bits.append(str(machine["memory_type"]) + (f"-{machine['speed_mts']}" if machine.get("speed_mts") else ""))
    if machine.get("channels"):
        bits.append(f"{machine['channels']} channels")
    return " · ".join(bits)


def dimm_summary(dimms: Sequence[Mapping[str, Any]], slots: int | None = None) -> str:
    """``24 × 48 GB DDR5 Samsung M321R8GA0PB0-CWMKH @ 6400 MT/s (24 of 24 slots)``."""
    if not dimms:
        return DASH
    groups = Counter(
        (d.get("size_bytes"), d.get("type"), d.get("manufacturer"), d.get("part_number"),
         d.get("configured_speed_mts") or d.get("speed_mts")) for d in dimms if isinstance(d, dict))
    lines = []
    for (size, typ, maker, part, speed), n in groups.most_common():
        size_txt = f"{size / 2**30:.0f} GB" if size else "? GB"  # DIMMs are sold in GiB called GB
        desc = " ".join(str(x) for x in (typ, maker, part) if x)
        lines.append(f"{n} × {size_txt} {desc}".strip() + (f" @ {speed} MT/s" if speed else ""))
    total = sum(groups.values())
    tail = f" ({total} of {slots} slots)" if slots else ""
    return "; ".join(lines) + tail


def grouped_gpus(machine: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Identical GPUs as one entry with their count: a probe lists each of 8 H200s on its own."""
    groups: dict[str, dict[str, Any]] = {}
    for g in machine.get("gpus") or []:
        if not isinstance(g, dict):
            continue
        key = repr(sorted((k, v) for k, v in g.items() if k != "count"))
        if key in groups:
            groups[key]["count"] = groups[key].get("count", 1) + g.get("count", 1)
        else:
            groups[key] = dict(g)
    return list(groups.values())


def _gpu_lines(machine: Mapping[str, Any]) -> list[str]:
    out = []
    for g in grouped_gpus(machine):
        bits = [f"{g.get('count', 1)} × {g.get('model') or 'GPU'}"]
        if g.get("unified_memory"):
            bits.append("shares host memory")
        elif g.get("memory_gb"):
            bits.append(format_gb(g["memory_gb"]))
        if g.get("bandwidth_gbs"):
            bits.append(format_gbs(g["bandwidth_gbs"]))
        if g.get("bf16_tflops"):
            bits.append(f"{format_sig(g['bf16_tflops'])} TFLOP/s BF16")
        if g.get("pcie_gen"):
            bits.append(f"PCIe {g['pcie_gen']}.0 ×{g.get('pcie_width') or '?'}")
        out.append(" · ".join(bits))
    return out


def _hardware(machine: Mapping[str, Any], system: Mapping[str, Any]) -> list[tuple[str, str]]:
    flags = [f for f in NOTABLE_FLAGS if f in (machine.get("cpu_flags") or ())]
    gpu_probe = machine.get("gpu_probe") or {}
    rows = [("CPU", _cpu_line(machine)),
            ("ISA", ", ".join(flags) or DASH),
            ("NUMA nodes", str(machine.get("numa_nodes") or 1)),
            ("L3 cache", format_bytes(system.get("l3_cache_bytes")) if system.get("l3_cache_bytes") else DASH),
            ("Memory", _memory_line(machine)),
            ("DIMMs", dimm_summary(system.get("dimms") or [], system.get("dimm_slots"))),
            ("Host bandwidth", _bandwidth_line(machine))]
    gpus = _gpu_lines(machine)
    rows += [("GPU", g) for g in gpus] or [("GPU", "none")]
    if gpu_probe.get("driver_version"):
        rows.append(("GPU driver", f"{gpu_probe['driver_version']} · CUDA {gpu_probe.get('cuda_version') or DASH}"))
    if (machine.get("nodes") or 1) > 1:
        rows.append(("Cluster", f"{machine['nodes']} nodes · {format_gbs(machine.get('interconnect_gbs'))} per node"))
    if machine.get("price"):
        rows.append(("Price", format_money(machine["price"], machine.get("currency"))))
    return rows


def _theoretical(machine: Mapping[str, Any]) -> float | None:
    if machine.get("theoretical_bandwidth_gbs"):
        return float(machine["theoretical_bandwidth_gbs"])
    if machine.get("channels") and machine.get("speed_mts"):
        return machine["channels"] * machine["speed_mts"] * 8 / 1000
    return None


def _bandwidth_line(machine: Mapping[str, Any]) -> str:
    theo, meas = _theoretical(machine), machine.get("measured_bandwidth_gbs")
    if meas and theo:
        return f"{format_gbs(meas)} measured (STREAM triad) = {format_pct(meas / theo)} of {format_gbs(theo)} theoretical"
    if meas:
        return f"{format_gbs(meas)} measured (STREAM triad)"
    if theo:
        return f"{format_gbs(theo)} theoretical (channels × MT/s × 8 B), not measured"
    return DASH


# ---------------------------------------------------------------- probes and bandwidth

def _probe_rows(probes: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for name, p in sorted(probes.items()):
        if not isinstance(p, dict):
            continue
        metric = get_metric(name)
        rows.append({"name": name, "description": metric.description if metric.description != name else "",
                     "best": metric.format(p.get("best")), "median": metric.format(p.get("median")),
                     "cv": format_pct(p.get("cv"), 1), "n": str(len(p.get("samples") or []))})
    return rows


_BANDWIDTH_PROBES = (("stream_copy", "STREAM copy"), ("stream_scale", "STREAM scale"),
                     ("stream_add", "STREAM add"), ("stream_triad", "STREAM triad"),
                     ("moe_replay", "MoE expert replay"))


def _bandwidth_chart(machine: Mapping[str, Any], probes: Mapping[str, Any]) -> Chart:
    theo = _theoretical(machine)
    bars = []
    if theo:
        label = f"Theoretical ({machine['channels']} ch × {machine['speed_mts']} MT/s)" if (
            machine.get("channels") and machine.get("speed_mts")) else "Theoretical"
        bars.append(Bar(label, theo, "theoretical"))
    for key, label in _BANDWIDTH_PROBES:
        p = probes.get(key)
        if isinstance(p, dict) and p.get("best"):
            bars.append(Bar(label, float(p["best"]), "measured", format_pct(p["best"] / theo) if theo else ""))
    nodes = sorted(k for k in probes if k.startswith("stream_triad@"))
    for key in nodes:
        p = probes[key]
        if isinstance(p, dict) and p.get("best"):
            bars.append(Bar(f"STREAM triad, {key.split('@', 1)[1]}", float(p["best"]), "measured"))
    for g in grouped_gpus(machine):
        if g.get("bandwidth_gbs"):
            bars.append(Bar(f"{g.get('model')} (rated)", float(g["bandwidth_gbs"]), "GPU theoretical"))
        if g.get("measured_bandwidth_gbs"):
            bars.append(Bar(f"{g.get('model')} (measured)", float(g["measured_bandwidth_gbs"]), "GPU measured"))
    return Chart("bandwidth", "bars", "Memory bandwidth: measured vs theoretical", "GB/s", bars=tuple(bars))


# ---------------------------------------------------------------- reproducibility

def _onoff(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value in ("0", "1"):
        return "on" if value == "1" else "off"
    return str(value) if value not in (None, "") else DASH


def _reproducibility(result: Mapping[str, Any], machine: Mapping[str, Any], system: Mapping[str, Any]) -> list[tuple[str, str]]:
    probe = machine.get("probe") or {}
    settings = probe.get("settings") or {}
    bios = " ".join(str(system[k]) for k in ("bios_vendor", "bios_version") if system.get(k)) or DASH
    if system.get("bios_date"):
        bios += f" ({system['bios_date']})"
    rows = [("Product", str(system.get("product_name") or DASH)), ("Host name", str(system.get("hostname") or DASH)),
            ("BIOS", bios), ("Kernel", str(system.get("kernel") or DASH)),
            ("CPU governor", str(system.get("governor") or DASH)),
            ("Transparent huge pages", str(system.get("thp") or DASH)),
            ("NUMA balancing", _onoff(system.get("numa_balancing"))), ("SMT", _onoff(system.get("smt"))),
            ("Machine source", str(machine.get("source") or DASH)),
            ("Fingerprint", str(machine.get("fingerprint") or DASH)),
            ("Run", str(result.get("run_id") or DASH)),
            ("Started · finished", f"{_when(result.get('started_at'))} · {_when(result.get('finished_at'))}"),
            ("moebench (run · report)", f"{result.get('harness_version') or DASH} · {__version__}")]
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
