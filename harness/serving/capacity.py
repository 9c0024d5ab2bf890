"""How many users a machine serves at a per-user speed: the largest closed-loop concurrency whose
simulated median TPOT still gives each user the target tokens/s (queueing, prefill interference and
KV capacity included, unlike a roofline at batch B)."""

from __future__ import annotations

from typing import Any

from harness.perf.batch import StepModel
from harness.perf.sensitivity import largest_passing
from harness.serving.metrics import serving_metrics
from harness.serving.scheduler import SchedulerConfig
from harness.serving.simulate import simulate
from harness.serving.workload import Load

SEARCH_LIMIT = 4096


def _point(step: StepModel, cfg: SchedulerConfig, c: int, input_len: int, output_len: int,
           latency: float) -> dict[str, Any]:
    load = Load(input_len=input_len, output_len=output_len, concurrency=c, requests=max(2 * c, 16))
    return serving_metrics(simulate(step.time, load, cfg, step.kv_capacity_tokens, request_latency_s=latency))


def max_users(step: StepModel, cfg: SchedulerConfig, target_tps: float, *, input_len: int, output_len: int,
              request_latency_s: float = 0.0, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """Users (over all replicas of the node) that each get ``target_tps`` at the median, found by
    doubling then bisection on one replica's concurrency (TPOT does not fall as users are added). No
    more than the engine runs at once: further clients only wait."""
    limit = min(limit, cfg.max_running)
    cache: dict[int, dict[str, Any]] = {}

    def ok(c: int) -> bool:
        if c not in cache:
            cache[c] = _point(step, cfg, c, input_len, output_len, request_latency_s)
        tpot = cache[c]["median_tpot_ms"]
        return bool(tpot) and 1000.0 / tpot >= target_tps

    base = {"target_tokens_per_s": target_tps, "simulated": True, "replicas": step.replicas}
    lo = largest_passing(ok, limit)
    if not lo:
        return base | {"max_users": 0}
    best = cache[lo]
    return base | {"max_users": lo * step.replicas,
                   "aggregate_tokens_per_s": best["output_throughput"] * step.replicas,
                   "median_tpot_ms": best["median_tpot_ms"], "median_ttft_ms": best["median_ttft_ms"],
                   "p99_ttft_ms": best["p99_ttft_ms"], "capped_at_search_limit": lo >= limit}
