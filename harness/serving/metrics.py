"""A serving trace as vLLM's ``benchmark_serving`` reports it: throughputs over the run, and mean,
median, P90 and P99 of TTFT, TPOT, ITL and end-to-end latency in milliseconds.

Definitions (vllm benchmarks/benchmark_serving.py ``calculate_metrics``): TTFT = first token − send;
TPOT = (E2E − TTFT) / (output tokens − 1) for requests with more than one output token; ITL = the
gaps between a request's successive tokens; E2EL = last token − send; duration = first send to last
token; goodput = requests/s that meet every SLO given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.serving.simulate import Trace

STATS = (("mean", np.mean), ("median", np.median), ("p90", lambda a: np.percentile(a, 90)),
         ("p99", lambda a: np.percentile(a, 99)))


def _stats(name: str, values_s: np.ndarray) -> dict[str, float]:
    if not len(values_s):
        return {f"{stat}_{name}_ms": 0.0 for stat, _ in STATS}
    return {f"{stat}_{name}_ms": float(fn(values_s)) * 1000 for stat, fn in STATS}


def serving_metrics(trace: Trace, *, slo_ttft_ms: float | None = None, slo_tpot_ms: float | None = None
                    ) -> dict[str, Any]:
    """The benchmark_serving keys (and goodput) for one simulated run."""
    arrivals = np.array(trace.arrivals)
    first = np.array(trace.first_tokens)
    finish = np.array(trace.finishes)
    outputs = np.array(trace.output_lens)
    ttft = first - arrivals
    e2e = finish - arrivals
    multi = outputs > 1
    tpot = (e2e[multi] - ttft[multi]) / (outputs[multi] - 1)
    itl = np.concatenate([np.diff(t) for t in trace.token_times if len(t) > 1]) if any(
        len(t) > 1 for t in trace.token_times) else np.array([])
    duration = float(finish.max() - arrivals.min()) or 1e-12
    ok = np.ones(len(ttft), dtype=bool)
    if slo_ttft_ms is not None:
        ok &= ttft * 1000 <= slo_ttft_ms
    if slo_tpot_ms is not None:
        per_request_tpot = np.where(multi, (e2e - ttft) / np.maximum(outputs - 1, 1), 0.0)
        ok &= per_request_tpot * 1000 <= slo_tpot_ms
    out: dict[str, Any] = {
        "completed": len(ttft), "duration": duration,
        "total_input_tokens": int(np.sum(trace.input_lens)), "total_output_tokens": int(outputs.sum()),
        "request_throughput": len(ttft) / duration, "output_throughput": float(outputs.sum()) / duration,
        "total_token_throughput": float(outputs.sum() + np.sum(trace.input_lens)) / duration,
    }
    for name, values in (("ttft", ttft), ("tpot", tpot), ("itl", itl), ("e2el", e2e)):
        out |= _stats(name, values)
    out["goodput"] = float(ok.sum()) / duration if (slo_ttft_ms or slo_tpot_ms) else None
    out |= {"max_kv_cache_tokens": trace.max_kv_tokens, "preemptions": trace.preemptions,
            "iterations": trace.iterations}
    return out
