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


_PER_NODE = ("completed", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput",
             "total_token_throughput")


def serve_point(step: StepModel, load: Load, cfg: SchedulerConfig, *, slo_ttft_ms: float | None = None,
                slo_tpot_ms: float | None = None, request_latency_s: float = 0.0,
                mtp_acceptance: float = 0.0, draft_tokens: int = 1,
                prefill_pool: PrefillPool | None = None) -> dict[str, Any]:
    """One simulated benchmark run: its metrics and what bounded it. A deployment of several replicas
    (GPUs // tensor-parallel size, or expert-parallel ranks) splits the load evenly; its throughputs
    are the sum over the replicas that have clients."""
    share, carrying = replica_load(load, step.replicas)
    if isinstance(step, EpStepModel):  # an expert-parallel rank: the experts the loaded ranks touch
        step = step.with_active(round(carrying))
    trace = simulate(step.time, share, cfg, step.kv_capacity_tokens, request_latency_s=request_latency_s,
                     mtp_acceptance=mtp_acceptance, draft_tokens=draft_tokens, prefill_pool=prefill_pool)
    out = serving_metrics(trace, slo_ttft_ms=slo_ttft_ms, slo_tpot_ms=slo_tpot_ms)
    for key in _PER_NODE:
        out[key] *= carrying
    if out["goodput"] is not None:
        out["goodput"] *= carrying
    out["replicas"] = step.replicas
    running = min(share.concurrency or share.requests, share.requests)
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
