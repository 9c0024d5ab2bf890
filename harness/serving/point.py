"""One simulated benchmark point on a node: the load split over the node's replicas, the run, the
metrics summed back to the node, and what bounded it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.perf.batch import StepModel
from harness.perf.ep_batch import EpStepModel
from harness.serving.metrics import serving_metrics
from harness.serving.scheduler import SchedulerConfig
from harness.serving.simulate import PrefillPool, simulate
from harness.serving.workload import Load


def replica_load(load: Load, replicas: int) -> tuple[Load, float]:
    """The share of the load one of ``replicas`` identical replicas behind a router receives, and how
    many replicas carry such a share (fewer than all when there are fewer clients than replicas)."""
    if replicas <= 1:
        return load, 1.0
    if load.concurrency:
        per = -(-load.concurrency // replicas)
        return replace(load, concurrency=per, requests=max(1, -(-load.requests * per // load.concurrency))), \
            load.concurrency / per
    return replace(load, rate=load.rate / replicas if load.rate is not None else None,
                   requests=max(1, -(-load.requests // replicas))), float(replicas)


# Data-parallel attention ranks simulated together (each step as long as the slowest rank's): all of
# an expert-parallel group up to this many, else the largest group of them that divides it evenly, the
# load shared out among such groups. A bound on the simulator's work per step.
MAX_SIMULATED_RANKS = 16


# ... and at most this many requests running in the ranks simulated together: above it the ranks'
# batches are so large that one rank's prompt chunk barely lengthens the step, and fewer ranks are
# simulated (a bound on the simulator's work, like MAX_SIMULATED_RANKS)
MAX_SIMULATED_RUNNING = 1024


def simulated_ranks(step: StepModel | EpStepModel, per_rank_running: float = 1.0) -> int:
    """How many ranks of ``step``'s group one simulation steps together (1 for tensor-parallel replicas,
    which step independently), given about how many requests each rank runs."""
    if not isinstance(step, EpStepModel) or step.ranks <= 1:
        return 1
    cap = max(1, min(step.ranks, MAX_SIMULATED_RANKS, int(MAX_SIMULATED_RUNNING // max(1.0, per_rank_running))))
    return max(d for d in range(1, cap + 1) if step.ranks % d == 0)


def _per_rank_running(step: StepModel | EpStepModel, load: Load, cfg: SchedulerConfig) -> float:
    """About how many requests one rank runs: its share of the clients, else as many as its limit and
    its KV cache hold."""
    if load.concurrency:
        return load.concurrency / step.replicas
    held = step.kv_capacity_tokens / max(1, load.input_len + load.output_len)
    return min(float(cfg.max_running), held, load.requests / step.replicas)


_PER_NODE = ("completed", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput",
             "total_token_throughput")


def serve_point(step: StepModel, load: Load, cfg: SchedulerConfig, *, slo_ttft_ms: float | None = None,
                slo_tpot_ms: float | None = None, request_latency_s: float = 0.0,
                mtp_acceptance: float = 0.0, draft_tokens: int = 1,
                prefill_pool: PrefillPool | None = None) -> dict[str, Any]:
    """One simulated benchmark run: its metrics and what bounded it. A deployment of several replicas
    (GPUs // tensor-parallel size) splits the load evenly and its throughputs are the sum over the
    replicas that have clients; the data-parallel ranks of an expert-parallel group are simulated
    together, stepping in lockstep (``simulated_ranks``)."""
    # a decode pool's ranks (prompts prefilled elsewhere) differ only in batch size, which the round robin
    # keeps even: one rank stands for them all
    ranks = 1 if prefill_pool is not None else simulated_ranks(step, _per_rank_running(step, load, cfg))
    share, carrying = replica_load(load, step.replicas // ranks)
    if isinstance(step, EpStepModel):  # an expert-parallel rank: the experts the loaded ranks touch
        step = step.with_active(min(step.ranks, load.concurrency) if load.concurrency else step.ranks)
    trace = simulate(step.time, share, cfg, step.kv_capacity_tokens, request_latency_s=request_latency_s,
                     mtp_acceptance=mtp_acceptance, draft_tokens=draft_tokens, prefill_pool=prefill_pool, ranks=ranks)
    out = serving_metrics(trace, slo_ttft_ms=slo_ttft_ms, slo_tpot_ms=slo_tpot_ms)
    for key in _PER_NODE:
        out[key] *= carrying
    if out["goodput"] is not None:
        out["goodput"] *= carrying
    out["replicas"] = step.replicas
    running = -(-min(share.concurrency or share.requests, share.requests) // ranks)  # per rank
    if trace.preemptions or out["max_kv_cache_tokens"] >= 0.95 * step.kv_capacity_tokens:
        bound = "KV cache capacity"
    elif running > cfg.max_running:
        bound = f"engine request limit ({cfg.max_running} running)"
    else:
        typical = max(1, min(running, cfg.max_running))
        parts = step.parts(typical, share.input_len + share.output_len / 2)
        bound = max(parts, key=parts.get) if parts else "none"
    out["bottleneck"] = bound
    out["concurrency"] = load.concurrency
    out["request_rate"] = load.rate
    return out
