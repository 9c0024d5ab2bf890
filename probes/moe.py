"""MoE replay: the memory access pattern of MoE decode, measured as effective bandwidth.

Decoding one token of DeepSeek-V3 reads, in each of 58 MoE layers, the weights of 8 experts out
of 256 chosen by the router: matrix-vector products over scattered multi-megabyte matrices, not
one long stream. This probe replays that: per simulated layer it picks ``top_k`` experts at
random from a pool far larger than the last-level cache and runs each expert's gate/up and down
GEMVs through numpy's BLAS (all its threads, as an engine splits one GEMV over all cores).

Expert shape: hidden 7168 (DeepSeek-V3 ``hidden_size``) x 256 float32. One such matrix is
7.3 MB, the size of one real 2048x7168 expert matrix at ~4 bits per weight (q4_k_m), so the
probe moves memory in the same chunk sizes a quantised engine does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from probes._stats import Measurement
from probes._team import Progress
from probes.sources import Clock, RealClock
from probes.system import SystemInfo

HIDDEN = 7168  # DeepSeek-V3 config.json "hidden_size"
INTERMEDIATE = 256  # float32 stand-in for a 4-bit 2048-wide expert (same bytes)
TOP_K = 8  # DeepSeek-V3 "num_experts_per_tok"
MIB = 1 << 20


@dataclass(frozen=True)
class MoePlan:
    """Expert pool and sampling; the pool is sized against the last-level cache and budget."""

    experts: int
    hidden: int = HIDDEN
    intermediate: int = INTERMEDIATE
    top_k: int = TOP_K
    layers_per_sample: int = 16
    samples: int = 5
    seed: int = 0

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


def plan_moe_replay(quick: bool, system: SystemInfo, budget_bytes: int) -> MoePlan:
    """At least 8x the last-level cache and 4x top_k experts, within ``budget_bytes``."""
    probe = MoePlan(experts=1)
    llc = system.l3_cache_bytes or 32 * MIB
    wanted = max(-(-8 * llc // probe.expert_bytes), 4 * TOP_K, 32 if quick else 64)
    affordable = max(TOP_K, budget_bytes // probe.expert_bytes)
    return MoePlan(experts=min(wanted, affordable), samples=5 if quick else 10,
                   layers_per_sample=12 if quick else 24)


class _Pool:
    """The experts' weights, written once so every page is really backed by memory."""

    def __init__(self, plan: MoePlan) -> None:
        shape_in = (plan.experts, 2 * plan.intermediate, plan.hidden)  # gate and up, stacked
        shape_out = (plan.experts, plan.hidden, plan.intermediate)  # down
        self.w_in = np.empty(shape_in, dtype=np.float32)
        self.w_out = np.empty(shape_out, dtype=np.float32)
        self.w_in.fill(1e-3)
        self.w_out.fill(1e-3)
        self.x = np.ones(plan.hidden, dtype=np.float32)
        self.h = np.empty(2 * plan.intermediate, dtype=np.float32)
        self.y = np.empty(plan.hidden, dtype=np.float32)

    def expert(self, e: int, f: int) -> None:
        np.matmul(self.w_in[e], self.x, out=self.h)
        gate, up = self.h[:f], self.h[f:]
        np.multiply(gate, up, out=gate)  # stands in for silu(gate) * up: tiny, in cache
        np.matmul(self.w_out[e], gate, out=self.y)


def run_moe_replay(plan: MoePlan, progress: Progress | None = None,
                   clock: Clock | None = None) -> MoeResult:
    """Samples of effective bandwidth over ``layers_per_sample`` randomly routed layers each."""
    clock = clock or RealClock()
    rng = np.random.default_rng(plan.seed)
    pool = _Pool(plan)
    routes = [rng.choice(plan.experts, size=plan.top_k, replace=False)
              for _ in range(plan.samples * plan.layers_per_sample + 1)]
    for e in routes[-1]:  # warm-up layer: BLAS thread pool started, code paths hot
        pool.expert(int(e), plan.intermediate)
    samples = []
    for s in range(plan.samples):
        t0 = clock.monotonic()
        for layer in routes[s * plan.layers_per_sample:(s + 1) * plan.layers_per_sample]:
            for e in layer:
                pool.expert(int(e), plan.intermediate)
        seconds = max(clock.monotonic() - t0, 1e-9)
        samples.append(plan.layers_per_sample * plan.top_k * plan.expert_bytes / seconds / 1e9)
        if progress is not None:
            progress("moe replay", float(s + 1), float(plan.samples))
    return MoeResult(Measurement(tuple(samples), "GB/s"), plan)
