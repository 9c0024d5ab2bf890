"""One decode step on one node: bytes and FLOPs per device and tensor class (experts touched by the
batch), the roofline time of each device, engine overheads; and the prefill rate."""

from __future__ import annotations

import math
from typing import Any

from harness.perf.devices import Devices
from harness.perf.engines import EngineProfile
from harness.perf.overheads import engine_overhead
from harness.workload.scenario import Scenario


def unique_experts(n_experts: int, k: int, batch: int) -> float:
    """Routed experts one MoE layer touches for a batch, uniform routing: E·(1 − (1 − k/E)^B)."""
    if n_experts <= 0 or k <= 0:
        return 0.0
    return n_experts * (1 - (1 - k / n_experts) ** max(1, batch))


GPU_SIDE_CLASSES = ("embedding", "attention", "dense_mlp", "shared_experts", "router", "lm_head", "norms")


def device_of(cls: str, placement: str, unified: bool) -> str:
    """Which device streams a tensor class. A unified-memory GPU is still the GPU (its kernels,
    its bandwidth); only the capacity check counts its bytes against host memory."""
    if placement == "cpu":
        return "host"
    if placement == "hybrid":
        return "host" if cls == "routed_experts" else "gpu"
    return "gpu"


def gpu_expert_share(sc: Scenario, placement: str) -> float:
    """Share of the routed experts a hybrid placement keeps on the GPU: its ``gpu_expert_layers`` of the
    model's MoE layers (0 until resolved, and on every other placement)."""
    if placement != "hybrid" or not sc.gpu_expert_layers or not sc.model.n_moe_layers:
        return 0.0
    return min(1.0, sc.gpu_expert_layers / sc.model.n_moe_layers)


def split_by_device(cls: str, amount: float, sc: Scenario, placement: str, unified: bool) -> dict[str, float]:
    """``amount`` of a tensor class by device: all on ``device_of`` its class, except a hybrid's routed
    experts, of which the GPU takes ``gpu_expert_share``."""
    share = gpu_expert_share(sc, placement) if cls == "routed_experts" else 0.0
    if not share:
        return {device_of(cls, placement, unified): amount}
    return {"host": amount * (1 - share), "gpu": amount * share}


def step_bytes(sc: Scenario, placement: str, unified: bool) -> dict[str, dict[str, float]]:
    """Bytes read per decode step by device and class, at batch B."""
    read = sc.quant.read_bytes(sc.model)
    m = sc.model
    scale = unique_experts(m.n_routed_experts, m.experts_per_token, sc.batch) / max(1, m.experts_per_token)
    out: dict[str, dict[str, float]] = {"host": {}, "gpu": {}}
    for cls, b in read.items():
        if cls == "mtp" or not b:
            continue
        b = b * scale if cls == "routed_experts" else b
        for dev_name, part in split_by_device(cls, b, sc, placement, unified).items():
            out[dev_name][cls] = part
    kv_dev = device_of("attention", placement, unified)
    out[kv_dev]["kv_cache"] = m.kv_read_bytes(sc.context, sc.kv_dtype_bytes) * sc.batch
    return out


def step_flops(sc: Scenario, placement: str, unified: bool) -> tuple[dict[str, float], dict[str, float]]:
    """FLOPs per decode step by device: (weight mat-vecs, attention over the cache)."""
    m = sc.model
    flops = {"host": 0.0, "gpu": 0.0}
    attn = {"host": 0.0, "gpu": 0.0}
    read_params = getattr(m, "read_params", m.active_params)
    for cls, p in read_params.items():
        if cls in ("mtp", "embedding"):
            continue
        for dev_name, part in split_by_device(cls, 2.0 * p * sc.batch, sc, placement, unified).items():
            flops[dev_name] += part
    attn[device_of("attention", placement, unified)] += m.decode_attention_flops_per_token(sc.context) * sc.batch
    return flops, attn


def integer_weights(quant: Any) -> bool:
    """Whether the CPU multiplies these expert weights in int8 (GGUF block formats, INT4/INT8) rather
    than in floating point (BF16/FP16, FP8 converted to float)."""
    if getattr(quant, "expert_recipe", None) in ("bf16", "fp16", "fp8"):
        return False
    # an average size ("<N>bpw") above 8-bit blocks is a 16-bit file, not an integer one
    return quant.bits_per_weight("routed_experts") <= 9.0


def decode_step(sc: Scenario, placement: str, dev: Devices, eng: EngineProfile) -> tuple[float, dict[str, float], dict[str, float]]:
    """Seconds per decode step and where they go."""
    by = step_bytes(sc, placement, dev.unified)
    fl, attn = step_flops(sc, placement, dev.unified)
    times: dict[str, float] = {}
    host_bytes = sum(by["host"].values())
    gpu_bytes = sum(by["gpu"].values())
    if host_bytes:
        mem_t = host_bytes / dev.host_bw if dev.host_bw else math.inf
        host_rate = dev.host_flops * (dev.host_int8_dot if integer_weights(sc.quant) else 1.0)
        # attention over the cache multiplies every head against the cached keys/latents at once: the
        # engine's GEMM kernels, not its dequantising mat-vecs
        attn_rate = dev.host_gemm_flops or dev.host_flops
        cmp_t = (fl["host"] / host_rate + attn["host"] / attn_rate) if host_rate else 0.0
        times["host memory" if mem_t >= cmp_t else "host compute"] = max(mem_t, cmp_t)
    if gpu_bytes:
        slow = by["gpu"].get("routed_experts", 0.0) * (1 / gpu_kernel_penalty(sc, eng) - 1)
        mem_t = (gpu_bytes + slow) / dev.gpu_bw if dev.gpu_bw else math.inf
        cmp_t = (fl["gpu"] / dev.gpu_flops + attn["gpu"] / dev.gpu_attn_flops) if dev.gpu_flops else 0.0
        gpu_key = "GPU memory" if mem_t >= cmp_t else "GPU compute"
        times[gpu_key] = max(mem_t, cmp_t)
        if placement == "hybrid" and eng.overlaps_shared_experts and host_bytes and mem_t >= cmp_t:
            # the shared experts run on the GPU while the CPU works on the routed ones
            host_t = sum(v for k, v in times.items() if k.startswith("host"))
            shared_t = by["gpu"].get("shared_experts", 0.0) / dev.gpu_bw if dev.gpu_bw else 0.0
            times[gpu_key] -= min(shared_t, host_t)
    times["engine overhead"] = engine_overhead(sc.model, placement, dev, eng)
    bytes_total = {"host": host_bytes, "gpu": gpu_bytes}
    return sum(times.values()), times, bytes_total


def bf16_experts(quant: Any) -> bool:
    """Whether a recipe stores the routed experts as BF16 (``bf16``, or a mix whose experts resolve
    to it: named, the bare base, or the attention recipe they default to)."""
    return getattr(quant, "expert_recipe", None) == "bf16"


def gpu_kernel_penalty(sc: Scenario, eng: EngineProfile) -> float:
    """Share of the engine's GPU streaming rate that the routed-expert kernels reach on this
    backend (1.0 = no penalty). Why: ggml's Vulkan backend on devices without the bf16 shader
    extension ("bf16: 0" in its device line, e.g. RADV on Radeon 8060S) has no BF16 expert
    mat-vec (MUL_MAT_ID) and runs those through a slow path, while dense BF16 mat-vecs and the
    ROCm backend on the same GPU stream at full rate (kyuz0/amd-strix-halo-toolboxes, build 6486:
    Qwen3-30B-A3B BF16 tg128 8.29 tok/s Vulkan vs 24.94 ROCm; dense gemma-3-27b BF16 3.93 vs 4.11)."""
    if sc.backend == "vulkan" and bf16_experts(sc.quant):
        return eng.vulkan_bf16_moe_frac
    return 1.0


def prefill_rate(sc: Scenario, placement: str, dev: Devices) -> float | None:
    """Prompt tokens/s: compute bound at the effective GEMM FLOP/s of the device doing the matmuls."""
    m = sc.model
    per_token = 2.0 * sum(v for k, v in m.read_params.items() if k not in ("mtp", "embedding"))
    per_token += m.attention_flops_per_token(max(1, sc.prefill_depth + sc.prompt // 2))
    if placement == "cpu" or (placement == "hybrid" and not dev.gpu_flops):
        rate = dev.host_gemm_flops
    elif placement == "hybrid":
        # experts on the CPU (KTransformers runs expert GEMMs with AMX/AVX-512), the rest on GPU
        routed = 2.0 * m.read_params.get("routed_experts", 0) * (1 - gpu_expert_share(sc, placement))
        if not dev.host_gemm_flops:
            return None
        t = routed / dev.host_gemm_flops + (per_token - routed) / dev.gpu_flops
        return 1.0 / t if t > 0 else None
    else:
        rate = dev.gpu_flops
    return rate / per_token if rate and per_token else None
