"""MoE replay: the memory access pattern of MoE decode, measured as effective bandwidth.

Decoding one token of DeepSeek-V3 reads, in each of 58 MoE layers, the weights of 8 experts out
of 256 chosen by the router: matrix-vector products over scattered multi-megabyte matrices, not
one long stream. This probe replays that. Per simulated layer it picks ``top_k`` experts at
random from a pool far larger than the last-level cache; every pinned worker thread multiplies
its own slice of rows of each chosen expert (gate, up and the transposed down projection), the
way CPU engines split one expert over all cores, and a barrier ends the layer, as the next layer
needs this one's output. Each worker first-touches its slices, so the pool is spread over the
NUMA nodes like a NUMA-aware engine's. BLAS runs single-threaded inside each worker.

Expert shape: hidden 7168 (DeepSeek-V3 ``hidden_size``) x 256 float32 per matrix: 7.3 MB, the
size of one real 2048x7168 expert matrix at ~4 bits per weight (q4_k_m), so the probe moves memory
in the chunk sizes a quantised engine does. On machines with many threads the width grows to 16
rows per thread so that each BLAS call still streams a useful slice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from probes._blas import single_threaded_blas
from probes._stats import Measurement
from probes._team import Progress, Team, use_processes
from probes.sources import Clock, RealClock
from probes.system import SystemInfo

HIDDEN = 7168  # DeepSeek-V3 config.json "hidden_size"
INTERMEDIATE = 256  # float32 stand-in for a 4-bit 2048-wide expert (same bytes)
ROWS_PER_THREAD = 16
TOP_K = 8  # DeepSeek-V3 "num_experts_per_tok"
MIB = 1 << 20
MIN_SAMPLES = 3


@dataclass(frozen=True)
class MoePlan:
    """Expert pool and sampling; the pool is sized against the last-level cache and budget."""

    experts: int
    cpus: tuple[int, ...] = (0,)
    hidden: int = HIDDEN
    intermediate: int = INTERMEDIATE
    top_k: int = TOP_K
    layers_per_sample: int = 16
    samples: int = 5
    seed: int = 0
    seconds: float | None = None  # time budget: no new sample after it (at least MIN_SAMPLES)
    processes: bool = False  # workers are forked processes (see probes._team)
    notes: tuple[str, ...] = ()

    @property
    def expert_bytes(self) -> int:
        return 3 * self.hidden * self.intermediate * 4

    @property
    def pool_bytes(self) -> int:
        return self.experts * self.expert_bytes


@dataclass(frozen=True)
class MoeResult:
    """Effective GB/s: expert weight bytes read / wall time of the simulated layers."""

    measurement: Measurement
    plan: MoePlan
    notes: tuple[str, ...] = ()


def plan_moe_replay(quick: bool, system: SystemInfo, budget_bytes: int,
                    cpus: Sequence[int] = (0,)) -> MoePlan:
    """At least 8x the last-level cache and 4x top_k experts, within ``budget_bytes``; on a
    machine too small for 2x top_k experts of the standard width, narrower experts (noted)."""
    threads = len(cpus)
    width = _round_up(max(INTERMEDIATE, ROWS_PER_THREAD * threads), threads)
    notes: tuple[str, ...] = ()
    if budget_bytes < 2 * TOP_K * MoePlan(1, intermediate=width).expert_bytes:
        narrow = budget_bytes // (2 * TOP_K * 3 * HIDDEN * 4) // threads * threads
        width = max(threads, narrow)
        notes = (f"memory budget fits only narrow experts ({HIDDEN}x{width}): the MoE replay "
                 "moves smaller chunks than a real engine",)
    expert_bytes = MoePlan(1, intermediate=width).expert_bytes
    llc = system.l3_cache_bytes or 32 * MIB
    wanted = max(-(-8 * llc // expert_bytes), 4 * TOP_K, 32 if quick else 64)
    affordable = max(2 * TOP_K, budget_bytes // expert_bytes)
    return MoePlan(experts=min(wanted, affordable), cpus=tuple(cpus), intermediate=width,
                   samples=5 if quick else 10, layers_per_sample=12 if quick else 24,
                   seconds=1.5 if quick else 6.0, processes=use_processes(threads), notes=notes)


def _round_up(value: int, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


class _Slices:
    """One worker's rows of every expert: gate and up stacked, and the down projection
    transposed, so that each of its GEMVs reads one contiguous block."""

    def __init__(self, plan: MoePlan, rows: int, routes: list[np.ndarray]) -> None:
        self.w_in = np.empty((plan.experts, 2 * rows, plan.hidden), dtype=np.float32)
        self.w_out_t = np.empty((plan.experts, rows, plan.hidden), dtype=np.float32)
        self.w_in.fill(1e-3)  # written, so every page is backed by this worker's node
        self.w_out_t.fill(1e-3)
        self.x = np.ones(plan.hidden, dtype=np.float32)
        self.h = np.empty(2 * rows, dtype=np.float32)
        self.y = np.empty(plan.hidden, dtype=np.float32)
        self.rows, self.routes, self.layer = rows, routes, 0

    def run_layer(self) -> None:
        route = self.routes[self.layer % len(self.routes)]
        self.layer += 1
        gate, up = self.h[:self.rows], self.h[self.rows:]
        for e in route:
            np.matmul(self.w_in[e], self.x, out=self.h)
            np.multiply(gate, up, out=gate)  # stands in for silu(gate) * up: tiny, in cache
            np.matmul(gate, self.w_out_t[e], out=self.y)  # this worker's share of the output


def run_moe_replay(plan: MoePlan, progress: Progress | None = None,
                   clock: Clock | None = None) -> MoeResult:
    """Samples of effective bandwidth, each over ``layers_per_sample`` randomly routed layers."""
    clock = clock or RealClock()
    rng = np.random.default_rng(plan.seed)
    routes = [rng.choice(plan.experts, size=plan.top_k, replace=False)
              for _ in range((plan.samples + 1) * plan.layers_per_sample)]
    rows = plan.intermediate // len(plan.cpus)
    team = Team(plan.cpus, lambda i, cpu: _Slices(plan, rows, routes),
                lambda slices, step: slices.run_layer(), clock, processes=plan.processes)
    with single_threaded_blas() as single:  # one extra round first: warm-up, not reported
        stamps = team.run(["layer"] * plan.layers_per_sample, plan.samples + 1, "moe replay",
                          progress, plan.seconds, min_rounds=min(plan.samples, MIN_SAMPLES) + 1)
    stamps = stamps[1:]
    seconds = stamps[:, -1, :, 1].max(axis=1) - stamps[:, 0, :, 0].min(axis=1)
    moved = plan.layers_per_sample * plan.top_k * plan.expert_bytes
    notes = plan.notes + (() if single else (
        "BLAS thread count not settable: MoE replay workers share BLAS's own threads "
        "(figure may be low)",))
    samples = tuple(float(moved / max(s, 1e-9) / 1e9) for s in seconds)
    return MoeResult(Measurement(samples, "GB/s"), plan, notes)
