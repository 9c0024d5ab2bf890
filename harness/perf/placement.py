"""Which placement a request means on a machine, and how many GPUs a tensor-parallel engine splits
a model over."""

from __future__ import annotations

import math
from dataclasses import replace

from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.capacity import fits_on, memory_breakdown
from harness.perf.devices import devices_for
from harness.perf.engines import EngineProfile
from harness.perf.step import decode_step
from harness.workload.scenario import PLACEMENTS, Scenario


def tensor_parallel_size(machine: Machine, sc: Scenario, eng: EngineProfile) -> int:
    """GPUs a tensor-parallel engine splits a model over on one node of identical discrete GPUs: the
    power of two (or the whole node) that fits and decodes fastest, as vLLM's --tensor-parallel-size
    is chosen. Why: each extra GPU adds bandwidth but also collectives per layer (``tp_layer_us``),
    so a model that fits on one H200 decodes faster there than split eight ways."""
    n = machine.gpu_count
    if eng.multi_gpu != "tensor" or n < 2 or len(machine.gpus) != 1 or machine.gpus[0].unified_memory:
        return n
    best, best_t = n, math.inf
    for tp in sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n}):
        sub = replace(machine, gpus=(replace(machine.gpus[0], count=tp),))
        dev = devices_for(sub, eng, "gpu")
        if not fits_on(memory_breakdown(sc, "gpu", dev.unified), dev, "gpu")[0]:
            continue
        step = decode_step(sc, "gpu", dev, eng)[0]
        if step < best_t:
            best, best_t = tp, step
    return best


def resolve_placement(machine: Machine, requested: str) -> str:
    if requested not in PLACEMENTS:
        raise HarnessError(f"unknown placement {requested!r} — use one of: {', '.join(PLACEMENTS)}")
    if requested in ("gpu", "hybrid") and not machine.gpus:
        raise HarnessError(f"placement {requested!r} needs a GPU, and this machine has none — use --placement cpu")
    if requested == "multi-node" and (machine.nodes < 2 or not machine.gpus):
        raise HarnessError("placement 'multi-node' needs a [cluster] with nodes >= 2 and GPUs in the machine spec")
    return requested
