"""Run every probe and assemble the probe report (``moebench probe --json`` writes its dict).

A probe that fails is left out of ``probes`` and explained in ``notes``; it never shows as zero.
Ctrl-C (KeyboardInterrupt) propagates after the probe's worker threads have been joined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from probes._load import other_load, read_cpu_times
from probes._nvml import Nvml
from probes._stats import Measurement
from probes.compute import run_gemm
from probes.gpu import GpuReport, collect_gpus
from probes.memory import (
    BYTE_COUNTING, plan_moe_replay, plan_stream, run_moe_replay, run_stream, stream_settings,
)
from probes.sources import Clock, RealClock, RealSources, Sources
from probes.system import SystemInfo, collect_system

__all__ = ["ProbeReport", "SCHEMA_VERSION", "run_probes"]

SCHEMA_VERSION = 1
CV_LIMIT = 0.02  # above this a figure is flagged unstable
BUSY_LIMIT = 0.10  # other processes' share of the CPUs above which figures are flagged
Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class ProbeReport:
    """Everything measured on one machine in one run."""

    started_at: str
    duration_s: float
    system: SystemInfo
    gpu: GpuReport
    probes: dict[str, Measurement]
    settings: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The contract read by the CLI (``--json``) and by ``harness/machine.py``."""
        return {
            "kind": "moebench-probe", "schema_version": SCHEMA_VERSION,
            "started_at": self.started_at, "duration_s": round(self.duration_s, 3),
            "system": self.system.to_dict(), "gpu": self.gpu.to_dict(),
            "probes": {k: m.to_dict() for k, m in self.probes.items()},
            "settings": dict(self.settings), "notes": list(self.notes),
        }


def run_probes(quick: bool = False, progress: Progress | None = None,
               sources: Sources | None = None, nvml: Nvml | None = None,
               clock: Clock | None = None) -> ProbeReport:
    """Inventory, GPUs, STREAM, MoE replay, GEMM; ``quick`` uses small (still > 4x LLC) arrays."""
    clock = clock or RealClock()
    src = sources or RealSources()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = clock.monotonic()
    system = collect_system(src)
    gpu = collect_gpus(nvml, measure=not quick)  # importing torch alone takes seconds
    notes = _system_notes(system) + ([] if gpu.available else [f"GPU: {gpu.reason}"])
    settings: dict[str, Any] = {"quick": quick, "byte_counting": BYTE_COUNTING,
                                "transparent_huge_pages": system.thp}
    probes = _measure(quick, system, src, progress, clock, settings, notes)
    notes.extend(_stability_notes(probes))
    notes.extend(_efficiency_notes(system, probes))
    return ProbeReport(started, clock.monotonic() - t0, system, gpu, probes, settings, tuple(notes))


def _measure(quick: bool, system: SystemInfo, src: Sources, progress: Progress | None,
             clock: Clock, settings: dict[str, Any], notes: list[str]) -> dict[str, Measurement]:
    """The timed probes, in an order where none disturbs the next (BLAS's spinning threads
    from GEMM would, so GEMM is last), and how busy the rest of the machine was meanwhile."""
    probes: dict[str, Measurement] = {}
    before, t0 = read_cpu_times(src), clock.monotonic()
    budget = _stream_probe(quick, system, src, progress, clock, probes, settings, notes)
    if budget is not None:
        _moe_probe(quick, system, budget, progress, clock, probes, settings, notes)
    _gemm_probe(quick, progress, clock, probes, settings, notes)
    busy = other_load(before, read_cpu_times(src), clock.monotonic() - t0)
    settings["other_cpu_load"] = None if busy is None else round(busy, 3)
    if busy is not None and busy > BUSY_LIMIT:
        notes.append(f"other processes kept {busy:.0%} of the CPUs busy during the probe: "
                     "bandwidth and GFLOP/s are likely low and unstable; rerun on an idle machine")
    return probes


def _stream_probe(quick: bool, system: SystemInfo, src: Sources, progress: Progress | None,
                  clock: Clock, probes: dict[str, Measurement], settings: dict[str, Any],
                  notes: list[str]) -> tuple[int, tuple[int, ...]] | None:
    """STREAM results into ``probes``; returns (memory budget, CPUs) for the MoE replay."""
    try:
        plan = plan_stream(quick, system, src)
        settings.update(stream_settings(plan))
        notes.extend(plan.notes)
        result = run_stream(plan, progress, clock)
    except (MemoryError, OSError, ValueError, RuntimeError) as exc:
        notes.append(f"STREAM probe failed ({type(exc).__name__}: {exc}): bandwidth missing")
        return None
    settings["huge_page_share"] = (None if result.huge_page_share is None
                                   else round(result.huge_page_share, 3))
    notes.extend(n for n in result.notes if n not in plan.notes)
    for name, m in result.kernels.items():
        kernel, _, node = name.partition("@")
        probes[f"stream_{kernel}" + (f"@{node}" if node else "")] = m
    return plan.memory_budget_bytes, plan.cpus


def _moe_probe(quick: bool, system: SystemInfo, budget: tuple[int, tuple[int, ...]],
               progress: Progress | None, clock: Clock, probes: dict[str, Measurement],
               settings: dict[str, Any], notes: list[str]) -> None:
    plan = plan_moe_replay(quick, system, *budget)
    settings["moe_replay"] = {"experts": plan.experts, "pool_bytes": plan.pool_bytes,
                              "top_k": plan.top_k, "expert_shape": [plan.hidden, plan.intermediate],
                              "layers_per_sample": plan.layers_per_sample}
    try:
        moe = run_moe_replay(plan, progress, clock)
    except (MemoryError, OSError, ValueError, RuntimeError) as exc:
        notes.append(f"MoE replay failed ({type(exc).__name__}: {exc}): replay bandwidth missing")
        return
    probes["moe_replay"] = moe.measurement
    notes.extend(moe.notes)


def _gemm_probe(quick: bool, progress: Progress | None, clock: Clock,
                probes: dict[str, Measurement], settings: dict[str, Any], notes: list[str]) -> None:
    try:
        gemm = run_gemm(quick, progress, clock)
    except (MemoryError, OSError, ValueError, RuntimeError) as exc:
        notes.append(f"GEMM probe failed ({type(exc).__name__}: {exc}): compute rate missing")
        return
    probes["gemm_fp32"], probes["gemm_fp64"] = gemm.fp32, gemm.fp64
    settings["gemm_size"] = gemm.size


def _system_notes(system: SystemInfo) -> list[str]:
    """Findings a lab acts on: unknown DIMMs, empty channels, knobs that cost bandwidth."""
    notes = []
    if "dimms" in system.missing:
        notes.append(f"DIMMs: {system.missing['dimms']}")
    if system.memory_channels and system.max_memory_channels and \
            system.memory_channels < system.max_memory_channels:
        notes.append(f"only {system.memory_channels} of {system.max_memory_channels} memory "
                     "channels populated: peak bandwidth is "
                     f"{system.memory_channels / system.max_memory_channels:.0%} of what the CPUs offer")
    notes.extend(_dimm_notes(system))
    if system.virtualized:
        notes.append("this is a virtual machine: its memory bandwidth depends on the host and "
                     "the other guests, and may differ between runs")
    if system.memory_cgroup_limit_bytes:
        notes.append(f"this process's cgroup limits memory to "
                     f"{system.memory_cgroup_limit_bytes / 2**30:.1f} GiB: available memory and the "
                     "probe's memory budget are taken under that limit")
    if system.governor and system.governor not in {"performance", "schedutil"}:
        notes.append(f"CPU frequency governor is '{system.governor}': bandwidth and GFLOP/s may "
                     "be below what 'performance' gives")
    if system.thp == "never":
        notes.append("transparent huge pages are off: TLB misses may lower the bandwidth figures")
    if system.numa_balancing and system.numa_nodes > 1:
        notes.append("automatic NUMA balancing is on: the kernel may migrate pages during the "
                     "per-node runs")
    return notes


def _dimm_notes(system: SystemInfo) -> list[str]:
    """DIMMs running below their rating, and mixed sizes (uneven interleaving)."""
    notes = []
    rated = [d.speed_mts for d in system.dimms if d.speed_mts]
    running = system.memory_speed_mts
    if rated and running and running < min(rated):
        notes.append(f"DIMMs rated {min(rated)} MT/s run at {running} MT/s (BIOS setting, DIMMs "
                     f"per channel or CPU limit): {running / min(rated):.0%} of their peak")
    sizes = sorted({d.size_bytes for d in system.dimms})
    if len(sizes) > 1:
        notes.append("DIMM sizes differ (" + ", ".join(f"{s / 2**30:g} GiB" for s in sizes)
                     + "): channels may interleave unevenly")
    return notes


def _stability_notes(probes: dict[str, Measurement]) -> list[str]:
    return [f"CV of {name} {m.cv:.1%} > {CV_LIMIT:.0%}: results unstable (other load? "
            "frequency scaling?)" for name, m in probes.items() if m.cv > CV_LIMIT]


def _efficiency_notes(system: SystemInfo, probes: dict[str, Measurement]) -> list[str]:
    triad = probes.get("stream_triad")
    if triad is None or not system.theoretical_bandwidth_gbs:
        return []
    return [f"triad {triad.best:.1f} GB/s is {triad.best / system.theoretical_bandwidth_gbs:.0%} "
            f"of the theoretical {system.theoretical_bandwidth_gbs:.1f} GB/s "
            f"({system.memory_channels} channels x {system.memory_speed_mts} MT/s x 8 B)"]
