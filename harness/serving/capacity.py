"""How many users a machine serves: the largest closed-loop concurrency whose simulated median TPOT
still gives each user the target tokens/s, and the largest concurrency and request rate that keep a
TTFT/TPOT SLO (queueing, prefill interference and KV capacity included, unlike a roofline at batch B)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from harness.perf.batch import StepModel
from harness.perf.sensitivity import largest_passing
from harness.serving.metrics import serving_metrics
from harness.serving.point import simulated_ranks
from harness.serving.scheduler import SchedulerConfig
from harness.serving.simulate import simulate
from harness.serving.workload import Load

SEARCH_LIMIT = 4096

# PLACEHOLDER (a definition, not fitted): a user counts as served only while the median first token
# comes within QUEUE_TTFT_FACTOR times what one user alone on the same deployment waits, or
# QUEUE_TTFT_S, whichever is longer — beyond that users are queueing for a KV page or a slot, not being
# served, however fast the running ones decode. `max_users` and `moebench plan` share it.
QUEUE_TTFT_FACTOR = 2.0
QUEUE_TTFT_S = 10.0


def queue_ttft_limit_ms(alone_ttft_ms: float) -> float:
    """The median TTFT beyond which a deployment's users are queueing rather than served."""
    return max(QUEUE_TTFT_S * 1000.0, QUEUE_TTFT_FACTOR * alone_ttft_ms)


def _point(step: StepModel, cfg: SchedulerConfig, c: int, input_len: int, output_len: int,
           latency: float) -> dict[str, Any]:
    """``c`` clients per replica (per rank of an expert-parallel group, whose ranks step together)."""
    ranks = simulated_ranks(step, c)
    load = Load(input_len=input_len, output_len=output_len, concurrency=c * ranks, requests=max(2 * c * ranks, 16))
    point = serving_metrics(simulate(step.time, load, cfg, step.kv_capacity_tokens, request_latency_s=latency,
                                     ranks=ranks))
    return point | {"output_throughput": point["output_throughput"] / ranks}


def max_users(step: StepModel, cfg: SchedulerConfig, target_tps: float, *, input_len: int, output_len: int,
              request_latency_s: float = 0.0, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """Users (over all replicas of the node) that each get ``target_tps`` at the median without
    queueing (``queue_ttft_limit_ms``), found by doubling then bisection on one replica's concurrency
    (TPOT does not fall as users are added). No more than the engine runs at once: further clients
    only wait."""
    limit = min(limit, cfg.max_running)
    cache: dict[int, dict[str, Any]] = {}

    def point(c: int) -> dict[str, Any]:
        if c not in cache:
            cache[c] = _point(step, cfg, c, input_len, output_len, request_latency_s)
        return cache[c]

    limit_ttft = queue_ttft_limit_ms(point(1)["median_ttft_ms"])

    def ok(c: int) -> bool:
        tpot = point(c)["median_tpot_ms"]
        return bool(tpot) and 1000.0 / tpot >= target_tps and point(c)["median_ttft_ms"] <= limit_ttft

    base = {"target_tokens_per_s": target_tps, "simulated": True, "replicas": step.replicas}
    lo = largest_passing(ok, limit)
    if not lo:
        return base | {"max_users": 0}
    best = cache[lo]
    return base | {"max_users": lo * step.replicas,
                   "aggregate_tokens_per_s": best["output_throughput"] * step.replicas,
                   "median_tpot_ms": best["median_tpot_ms"], "median_ttft_ms": best["median_ttft_ms"],
                   "p99_ttft_ms": best["p99_ttft_ms"], "capped_at_search_limit": lo >= limit}


SLO_STAT = "p90"  # the SLO holds when 90% of requests meet it (goodput's per-request test, at the P90)
RATE_STEPS = 12  # bisection steps on the request rate: 1/4096 of the bracket


def meets_slo(point: dict[str, Any], slo_ttft_ms: float | None, slo_tpot_ms: float | None) -> bool:
    """Whether a simulated point keeps its P90 TTFT and P90 TPOT within the SLO."""
    return (slo_ttft_ms is None or point[f"{SLO_STAT}_ttft_ms"] <= slo_ttft_ms) and \
        (slo_tpot_ms is None or point[f"{SLO_STAT}_tpot_ms"] <= slo_tpot_ms)


def slo_capacity(run: Callable[[Load], dict[str, Any]], base: Load, slo_ttft_ms: float | None,
                 slo_tpot_ms: float | None, *, max_concurrency: int = 2048) -> dict[str, Any]:
    """The largest closed-loop concurrency and the largest Poisson request rate whose simulated P90
    TTFT and TPOT stay within the SLO: doubling then bisection on the concurrency, bisection on the
    rate between zero and the saturated request throughput (latency grows with load in both)."""
    cache: dict[int, dict[str, Any]] = {}

    def closed(c: int) -> dict[str, Any]:
        if c not in cache:
            cache[c] = run(replace(base, concurrency=c, rate=None, requests=max(64, 3 * c)))
        return cache[c]

    out: dict[str, Any] = {"statistic": SLO_STAT, "slo_ttft_ms": slo_ttft_ms, "slo_tpot_ms": slo_tpot_ms}
    best_c = largest_passing(lambda c: meets_slo(closed(c), slo_ttft_ms, slo_tpot_ms), max_concurrency)
    out["max_concurrency"] = best_c
    out["capped_at_search_limit"] = best_c >= max_concurrency
    if not best_c:
        return out | {"max_request_rate": 0.0}
    ceiling = closed(min(max_concurrency, 2 * best_c))["request_throughput"] * 1.5  # past saturation
    lo, hi = 0.0, ceiling
    for _ in range(RATE_STEPS):
        mid = (lo + hi) / 2
        point = run(replace(base, concurrency=None, rate=mid, requests=max(64, min(2000, int(mid * 120)))))
        lo, hi = (mid, hi) if meets_slo(point, slo_ttft_ms, slo_tpot_ms) else (lo, mid)
    return out | {"max_request_rate": lo, "output_throughput_at_max_concurrency": closed(best_c)["output_throughput"]}
