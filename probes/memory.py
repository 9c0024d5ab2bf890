"""Memory bandwidth: STREAM's four kernels on numpy float64 arrays, one pinned thread per core.

Byte counting follows STREAM exactly (McCalpin, stream.c): copy ``c = a`` and scale ``b = s*c``
move 16 bytes per element, add ``c = a + b`` and triad ``a = b + s*c`` move 24; the extra read a
write-allocate causes is not counted. Copy, scale and add are one numpy ufunc call each, one pass
like stream.c's loops. numpy has no one-pass triad, so the triad is the loop in probes/_fused.py
(compiled by numba over the same arrays) when numba works, and otherwise numpy cut into
cache-sized blocks: ``a_blk = s*c_blk`` then ``a_blk += b_blk`` while ``a_blk`` is still in cache,
so memory sees exactly what stream.c makes it see (read b and c, write a). That fallback keeps
fewer streams in flight per core and reads 10-20% low where one core's misses set the limit (see
probes/_fused.py); the probe's settings say which triad ran. bench/probe_fidelity.py measures
both kernels against compiled code on the machine at hand.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probes._cpu import parse_cpu_list
from probes._fused import one_pass_triad
from probes._hugepages import anon_huge_bytes
from probes._stats import Measurement
from probes._team import Progress, Team, step_seconds, use_processes
from probes.moe import MoePlan, MoeResult, plan_moe_replay, run_moe_replay
from probes.sources import Clock, RealClock, RealSources, Sources
from probes.system import SystemInfo

__all__ = [
    "BYTE_COUNTING", "KERNELS", "MoePlan", "MoeResult", "StreamPlan", "StreamResult",
    "plan_moe_replay", "plan_stream", "run_moe_replay", "run_stream",
]

KERNELS = ("copy", "scale", "add", "triad")
BYTES_PER_ELEMENT = {"copy": 16, "scale": 16, "add": 24, "triad": 24}
BYTE_COUNTING = "STREAM: copy/scale 16 B, add/triad 24 B per element; write-allocate not counted"
# s = sqrt(2) - 1 makes one copy/scale/add/triad round map a to itself (a' = (2s + s^2) a = a),
# so values neither overflow nor decay into slow denormals however many rounds run.
SCALAR = math.sqrt(2.0) - 1.0
MIB = 1 << 20
GIB = 1 << 30
ASSUMED_LLC = 32 * MIB
MEMORY_SHARE = 0.25  # of MemAvailable, for all three arrays together
BUDGET_FLOOR = 96 * MIB  # below this the machine is too small to say anything useful
BUDGET_CEILING = {True: 2 * GIB, False: 12 * GIB}
TARGET_ARRAY = {True: 64 * MIB, False: 256 * MIB}  # per array, raised to 4x LLC when larger
SAMPLES = {True: 5, False: 12}
PASSES = {True: 6, False: 8}
MIN_SAMPLES = 3
SECONDS = {True: 2.5, False: 15.0}  # time budget of the all-core run; per-node runs share half
BLOCK_BYTES = 1 * MIB  # triad block: a slice of ``a`` that stays in L2 between the two calls


@dataclass(frozen=True)
class StreamPlan:
    """What ``run_stream`` will do; every choice is visible in the report's settings."""

    cpus: tuple[int, ...]  # one pinned worker per CPU listed
    elements_per_thread: int
    samples: int  # reported samples per kernel
    passes: int  # timed passes per sample; a sample is the best pass (STREAM's convention)
    block_elements: int
    memory_budget_bytes: int
    seconds: float | None = None  # time budget: stop after the sample that crosses it
    processes: bool = False  # workers are forked processes, not threads (many cores: no GIL queue)
    node_cpus: tuple[tuple[int, ...], ...] = ()  # per-NUMA-node triad runs (only when > 1 node)
    notes: tuple[str, ...] = ()
    one_pass_triad: bool = False  # the compiled one-pass triad (probes/_fused.py), else blocked numpy
    triad_kernel: str = "two-pass blocked numpy triad"

    @property
    def threads(self) -> int:
        return len(self.cpus)

    @property
    def array_bytes(self) -> int:
        """Bytes of one of the three arrays, summed over threads."""
        return self.elements_per_thread * 8 * self.threads


@dataclass(frozen=True)
class StreamResult:
    """GB/s samples per kernel; per-node triads are keyed ``triad@node<N>``."""

    kernels: dict[str, Measurement]
    plan: StreamPlan
    notes: tuple[str, ...] = field(default=())
    huge_page_share: float | None = None  # of the all-core run's arrays, as the kernel backed them


def plan_stream(quick: bool, system: SystemInfo, sources: Sources | None = None,
                cpus: Sequence[int] | None = None) -> StreamPlan:
    """Array size at least 4x the total last-level cache, at most a bounded share of memory."""
    notes: list[str] = []
    chosen = tuple(cpus) if cpus is not None else one_cpu_per_core(sources or RealSources())
    if system.cpu_quota is not None and system.cpu_quota < len(chosen):
        chosen = chosen[:max(1, int(system.cpu_quota))]
        notes.append(f"a cgroup CPU quota allows {system.cpu_quota:g} CPUs: "
                     f"{len(chosen)} workers, not one per core")
    budget = memory_budget(quick, system.memory_available_bytes, notes)
    llc = system.l3_cache_bytes or ASSUMED_LLC
    if not system.l3_cache_bytes:
        notes.append(f"last-level cache size unknown: assumed {ASSUMED_LLC // MIB} MiB")
    array = max(TARGET_ARRAY[quick], 4 * llc)
    if 3 * array > budget:
        array = budget // 3
        notes.append(f"memory budget allows arrays of only {array / llc:.1f}x the last-level "
                     "cache (STREAM asks for 4x): bandwidth may be overstated")
    per_thread = max(4096, array // 8 // len(chosen) // 512 * 512)
    kernel, triad_kernel = one_pass_triad()
    if kernel is None:
        notes.append(f"triad: {triad_kernel}; it can read 10-20% below compiled code where one "
                     "core's outstanding misses set the limit (install numba for the one-pass loop)")
    return StreamPlan(
        cpus=chosen, elements_per_thread=per_thread, samples=SAMPLES[quick], passes=PASSES[quick],
        block_elements=BLOCK_BYTES // 8, memory_budget_bytes=budget, seconds=SECONDS[quick],
        processes=use_processes(len(chosen)), node_cpus=_node_cpus(system, chosen), notes=tuple(notes),
        one_pass_triad=kernel is not None, triad_kernel=triad_kernel,
    )


def memory_budget(quick: bool, available: int | None, notes: list[str]) -> int:
    """MEMORY_SHARE of available memory, clamped to [BUDGET_FLOOR, BUDGET_CEILING]; says so."""
    if available is None:
        notes.append("available memory unknown: memory budget set to the floor")
        return BUDGET_FLOOR
    budget = int(min(max(available * MEMORY_SHARE, BUDGET_FLOOR), BUDGET_CEILING[quick]))
    notes.append(f"memory budget {budget / GIB:.2f} GiB: {MEMORY_SHARE:.0%} of "
                 f"{available / GIB:.1f} GiB available, floor {BUDGET_FLOOR // MIB} MiB, "
                 f"ceiling {BUDGET_CEILING[quick] // GIB} GiB")
    return budget


def one_cpu_per_core(sources: Sources) -> tuple[int, ...]:
    """The CPUs this process may use, keeping the first SMT sibling of each physical core.

    A core is known by its thread_siblings_list (exact on every kernel); where that is missing,
    by (physical_package_id, core_id); where both are, every CPU counts as a core."""
    chosen, seen = [], set()
    for cpu in sorted(os.sched_getaffinity(0)):
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        siblings = parse_cpu_list(sources.read_text(f"{base}/thread_siblings_list") or "")
        key: object = min(siblings) if siblings else (
            (sources.read_text(f"{base}/physical_package_id") or "?").strip(),
            (sources.read_text(f"{base}/core_id") or str(cpu)).strip())
        if key not in seen:
            seen.add(key)
            chosen.append(cpu)
    return tuple(chosen)


def _node_cpus(system: SystemInfo, chosen: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    if system.numa_nodes < 2:
        return ()
    nodes = tuple(tuple(c for c in cpus if c in chosen) for cpus in system.numa_node_cpus)
    return nodes if sum(1 for n in nodes if n) > 1 else ()


class _Arrays:
    """One worker's slices of a, b, c, allocated and first-touched by that worker."""

    def __init__(self, n: int, block: int, one_pass: bool = False) -> None:
        self.a, self.b, self.c = np.empty(n), np.empty(n), np.empty(n)
        self.fused = one_pass_triad()[0] if one_pass else None
        self.a.fill(1.0)
        self.b.fill(2.0)
        self.c.fill(0.0)
        self.blocks = [(self.a[i:i + block], self.b[i:i + block], self.c[i:i + block])
                       for i in range(0, n, block)]

    def run(self, kernel: str) -> None:
        if kernel == "copy":
            np.copyto(self.c, self.a)
        elif kernel == "scale":
            np.multiply(self.c, SCALAR, out=self.b)
        elif kernel == "add":
            np.add(self.a, self.b, out=self.c)
        else:
            self.triad()

    def triad(self) -> None:
        """a = b + s*c: one compiled pass, or block by block so that a's block is re-read from
        cache, not memory."""
        if self.fused is not None:
            self.fused(self.a, self.b, self.c, SCALAR)
            return
        multiply, add = np.multiply, np.add
        for a, b, c in self.blocks:
            multiply(c, SCALAR, out=a)
            add(a, b, out=a)


def run_stream(plan: StreamPlan, progress: Progress | None = None,
               clock: Clock | None = None) -> StreamResult:
    """All-core STREAM, then (on a multi-node machine) the triad on each NUMA node alone."""
    clock = clock or RealClock()
    kernels, huge = _run_kernels(plan, plan.cpus, KERNELS, "stream", progress, clock)
    nodes = [(node, cpus) for node, cpus in enumerate(plan.node_cpus) if cpus]
    for node, cpus in nodes:
        # each node gets its share of the arrays (so of the LLC) and of half the time budget
        elements = max(4096, plan.array_bytes // len(nodes) // 8 // len(cpus))
        found, _ = _run_kernels(plan, cpus, ("triad",), f"stream node{node}", progress, clock,
                                elements=elements, seconds_share=0.5 / len(nodes))
        kernels[f"triad@node{node}"] = found["triad"]
    notes = plan.notes
    if huge is not None and huge < 0.5:
        notes += (f"only {huge:.0%} of the arrays are on huge pages: TLB misses may lower "
                  "the bandwidth figures",)
    return StreamResult(kernels=kernels, plan=plan, notes=notes, huge_page_share=huge)


def _run_kernels(plan: StreamPlan, cpus: tuple[int, ...], kernels: Sequence[str], stage: str,
                 progress: Progress | None, clock: Clock, elements: int | None = None,
                 seconds_share: float = 1.0) -> tuple[dict[str, Measurement], float | None]:
    """GB/s per kernel, and the share of the arrays on huge pages."""
    n = elements or plan.elements_per_thread
    team = Team(cpus, lambda i, cpu: _Arrays(n, plan.block_elements, plan.one_pass_triad),
                lambda arrays, kernel: arrays.run(kernel), clock, processes=plan.processes,
                on_ready=lambda: _huge_or_none())
    budget = plan.seconds * seconds_share if plan.seconds else None
    stamps = team.run(kernels, plan.samples * plan.passes, stage, progress, budget,
                      min_rounds=min(plan.samples, MIN_SAMPLES) * plan.passes)
    samples = len(stamps) // plan.passes
    seconds = step_seconds(stamps[:samples * plan.passes]).reshape(samples, plan.passes, len(kernels))
    out = {}
    for k, name in enumerate(kernels):
        gbs = BYTES_PER_ELEMENT[name] * n * len(cpus) / np.maximum(seconds[:, :, k], 1e-9) / 1e9
        out[name] = Measurement(tuple(float(x) for x in gbs.max(axis=1)), "GB/s")
    # in a forked worker the reading covers that worker's arrays only, else all of them
    arrays = 3 * n * 8 * (1 if plan.processes else len(cpus))
    huge = team.ready_value
    return out, None if huge is None else min(1.0, huge / arrays)


def _huge_or_none() -> float | None:
    found = anon_huge_bytes()
    return None if found is None else float(found)


def stream_settings(plan: StreamPlan) -> dict[str, Any]:
    """The ``settings`` block of the probe report that describes this plan."""
    return {"threads": plan.threads, "array_bytes": plan.array_bytes,
            "repeats": plan.samples * plan.passes, "samples": plan.samples,
            "passes_per_sample": plan.passes, "triad_kernel": plan.triad_kernel,
            "triad_block_bytes": None if plan.one_pass_triad else plan.block_elements * 8,
            "workers": "processes" if plan.processes else "threads",
            "huge_page_share": None,
            "memory_budget_bytes": plan.memory_budget_bytes, "byte_counting": BYTE_COUNTING}
