"""Every metric moebench records, declared once: name, unit, direction, format.

Probes, the result file, the store, ``compare`` and the reports all read this table, so a metric's
unit or direction is never restated elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    higher_is_better: bool
    description: str
    fmt: str = "{:.1f}"

    def format(self, value: float | None) -> str:
        """Value with its unit, or an em dash for a missing value."""
        if value is None:
            return "—"
        return f"{self.fmt.format(value)} {self.unit}"


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("stream_copy", "GB/s", True, "STREAM copy a=b, 16 B/element, all cores"),
        Metric("stream_scale", "GB/s", True, "STREAM scale a=s*b, 16 B/element, all cores"),
        Metric("stream_add", "GB/s", True, "STREAM add a=b+c, 24 B/element, all cores"),
        Metric("stream_triad", "GB/s", True, "STREAM triad a=b+s*c, 24 B/element, all cores"),
        Metric("moe_replay", "GB/s", True, "expert-shaped GEMV over randomly routed experts"),
        Metric("gemm_fp32", "GFLOP/s", True, "float32 GEMM through numpy BLAS, all cores", "{:.0f}"),
        Metric("gemm_fp64", "GFLOP/s", True, "float64 GEMM through numpy BLAS, all cores", "{:.0f}"),
        Metric("decode_tokens_per_s", "tok/s", True, "predicted decode speed at batch 1", "{:.2f}"),
        Metric("prefill_tokens_per_s", "tok/s", True, "predicted prefill speed", "{:.1f}"),
        Metric("ttft_s", "s", False, "predicted time to first token", "{:.2f}"),
    )
}


def get_metric(name: str) -> Metric:
    """The declared metric; unknown names (e.g. per-NUMA-node variants) get a neutral entry."""
    if name in METRICS:
        return METRICS[name]
    base = name.split("@", 1)[0]
    if base in METRICS:
        m = METRICS[base]
        return Metric(name, m.unit, m.higher_is_better, m.description, m.fmt)
    return Metric(name, "", True, name)


def prediction_metric_name(model: str, quant: str, placement: str, metric: str) -> str:
    """Stable long-table name of a predicted figure, e.g. ``decode_tokens_per_s@deepseek-v3/fp8/cpu``."""
    return f"{metric}@{model}/{quant}/{placement}"
