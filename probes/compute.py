"""Compute: dense GEMM GFLOP/s through numpy's BLAS, the rate prefill is bound by on a CPU.

An n x n by n x n product is 2 n^3 floating-point operations (one multiply and one add per term).
BLAS uses all its threads; the matrices are written once before timing so pages are backed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from probes._stats import Measurement
from probes._team import Progress
from probes.sources import Clock, RealClock

SIZE = {True: 1024, False: 2048}
SAMPLES = {True: 3, False: 6}
MIN_SAMPLE_SECONDS = {True: 0.1, False: 0.15}
SECONDS = {True: 1.5, False: 4.0}  # time budget per dtype: no new sample after it (at least 2)


@dataclass(frozen=True)
class GemmResult:
    """GFLOP/s samples by dtype name ("float32", "float64")."""

    fp32: Measurement
    fp64: Measurement
    size: int


def run_gemm(quick: bool, progress: Progress | None = None, clock: Clock | None = None,
             size: int | None = None, samples: int | None = None) -> GemmResult:
    """float32 then float64 GEMM; each sample repeats the product until it lasts long enough."""
    clock = clock or RealClock()
    n = size or SIZE[quick]
    count = samples or SAMPLES[quick]
    results = {}
    for i, dtype in enumerate((np.float32, np.float64)):
        results[dtype] = _gemm_samples(n, dtype, count, MIN_SAMPLE_SECONDS[quick], clock,
                                       SECONDS[quick] / 2)
        if progress is not None:
            progress("gemm", float(i + 1), 2.0)
    return GemmResult(fp32=results[np.float32], fp64=results[np.float64], size=n)


def _gemm_samples(n: int, dtype: type, count: int, min_seconds: float, clock: Clock,
                  budget: float) -> Measurement:
    a: np.ndarray = np.full((n, n), 0.5, dtype=dtype)
    b: np.ndarray = np.full((n, n), 0.25, dtype=dtype)
    c: np.ndarray = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=c)  # warm-up: BLAS threads started
    reps = _reps_for(a, b, c, min_seconds, clock)
    samples: list[float] = []
    start = clock.monotonic()
    for _ in range(count):
        if len(samples) >= 2 and clock.monotonic() - start > budget:
            break
        t0 = clock.monotonic()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        seconds = max(clock.monotonic() - t0, 1e-9)
        samples.append(2.0 * n ** 3 * reps / seconds / 1e9)
    return Measurement(tuple(samples), "GFLOP/s")


def _reps_for(a: np.ndarray, b: np.ndarray, c: np.ndarray, min_seconds: float, clock: Clock) -> int:
    """How many products make one sample last at least ``min_seconds``."""
    t0 = clock.monotonic()
    np.matmul(a, b, out=c)
    once = max(clock.monotonic() - t0, 1e-6)
    return max(1, int(min_seconds / once + 0.999))
