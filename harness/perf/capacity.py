"""Whether a scenario fits: resident bytes by device and tensor class, the reserves an OS, engine and
GPU runtime keep, and the largest context and batch that fit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.hardware.machine import Machine
from harness.perf.devices import GB, GPU_GB, Devices
from harness.perf.step import device_of, split_by_device
from harness.workload.scenario import Scenario


# Host memory a running OS and engine keep for themselves (kernel, services, engine buffers). An
# assumption, stated in every prediction's assumptions; measured here: a fresh 24 GB VM reports
# 23 GB available before anything runs.
HOST_RESERVE_FRAC = 0.05


HOST_RESERVE_MIN_GB = 4.0


# Per-GPU runtime reserve: CUDA context, activations, allocator slack (vLLM's default
# gpu_memory_utilization 0.9 leaves 10%).
GPU_RESERVE_FRAC = 0.10


def memory_breakdown(sc: Scenario, placement: str, unified: bool) -> dict[str, dict[str, float]]:
    """Resident bytes by device and tensor class (weights + KV cache for context × batch)."""
    out: dict[str, dict[str, float]] = {"host": {}, "gpu": {}}
    for cls, b in sc.quant.weight_bytes(sc.model).items():
        if cls == "mtp" and not sc.mtp:
            continue
        if b:
            for dev_name, part in split_by_device(cls, b, sc, placement, unified).items():
                out[dev_name][cls] = part
    out[device_of("attention", placement, unified)]["kv_cache"] = (
        sc.model.kv_cache_bytes(sc.context, sc.kv_dtype_bytes) * sc.batch)
    return out


def memory_per_gpu_ep(sc: Scenario, machine: Machine) -> dict[str, dict[str, float]]:
    """Bytes on each GPU under expert parallelism: dense weights replicated, experts split, KV of
    the GPU's share of the sequences."""
    n = max(1, machine.gpu_count * machine.nodes)
    per_gpu: dict[str, float] = {}
    for cls, b in sc.quant.weight_bytes(sc.model).items():
        if cls == "mtp" and not sc.mtp:
            continue
        if b:
            per_gpu[cls] = b / n if cls == "routed_experts" else b
    per_gpu["kv_cache"] = sc.model.kv_cache_bytes(sc.context, sc.kv_dtype_bytes) * sc.batch / n
    return {"host": {}, "gpu (each)": per_gpu}


def fit_ep(mem: dict[str, dict[str, float]], machine: Machine) -> tuple[bool, dict[str, Any]]:
    need = sum(mem["gpu (each)"].values())
    usable = (machine.gpus[0].memory_gb if machine.gpus else 0.0) * GPU_GB * (1 - GPU_RESERVE_FRAC)
    return need <= usable, {"gpu_needed_bytes_each": need, "gpu_usable_bytes_each": usable,
                            "gpus": machine.gpu_count * machine.nodes}


def fits_on(mem: dict[str, dict[str, float]], dev: Devices, placement: str) -> tuple[bool, dict[str, Any]]:
    host_need = sum(mem["host"].values())
    gpu_need = sum(mem["gpu"].values())
    host_res = max(HOST_RESERVE_MIN_GB * GB, HOST_RESERVE_FRAC * dev.host_capacity)
    if dev.unified:
        host_need += gpu_need
        gpu_need = 0.0
    host_free = dev.host_capacity - host_res
    gpu_free = dev.gpu_capacity * (1 - GPU_RESERVE_FRAC) if not dev.unified else 0.0
    ok_host = host_need <= host_free if dev.host_capacity else True  # capacity unknown: not checked
    ok_gpu = gpu_need <= gpu_free
    info = {"host_needed_bytes": host_need, "host_usable_bytes": max(0.0, host_free),
            "gpu_needed_bytes": gpu_need, "gpu_usable_bytes": gpu_free,
            "host_fits": ok_host, "gpu_fits": ok_gpu}
    return ok_host and ok_gpu, info


def kv_room_bytes(placement: str, dev: Devices, mem: dict[str, dict[str, float]]) -> float:
    """Bytes left for the KV cache where it lives, after the weights there and the reserves."""
    kv_dev = "host" if dev.unified else device_of("attention", placement, dev.unified)
    weights = sum(v for d in mem.values() for k, v in d.items() if k != "kv_cache") if dev.unified else \
        sum(v for k, v in mem[kv_dev].items() if k != "kv_cache")
    if kv_dev == "host":
        usable = dev.host_capacity - max(HOST_RESERVE_MIN_GB * GB, HOST_RESERVE_FRAC * dev.host_capacity)
    else:
        usable = dev.gpu_capacity * (1 - GPU_RESERVE_FRAC)
    return usable - weights


def kv_copies(model: Any, tensor_parallel: int) -> int:
    """Copies of each token's KV cache a tensor-parallel group keeps: attention heads are split over the
    GPUs, so GPUs that share a KV head each hold it — with MLA (one latent per token, no KV heads to
    split) every GPU holds all of it, which is why SGLang runs DeepSeek with data-parallel attention
    (SGLang v0.4 release blog, "Data Parallelism Attention")."""
    if tensor_parallel <= 1:
        return 1
    heads = 1 if model.attention_kind == "mla" else max(1, model.n_kv_heads)
    return max(1, tensor_parallel // min(tensor_parallel, heads))


def capacity_limits(sc: Scenario, placement: str, dev: Devices, mem: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Largest context (at this batch) and largest batch (at this context) that fit (a tensor-parallel
    group holding ``kv_copies`` of each token's cache)."""
    copies = kv_copies(sc.model, dev.tensor_parallel) if placement == "gpu" and not dev.unified else 1
    per_token = sc.model.kv_bytes_per_token(sc.kv_dtype_bytes) * copies
    room = kv_room_bytes(placement, dev, mem)
    if room <= 0:
        return {"max_context": 0, "max_batch": 0, "kv_bytes_per_token": per_token}
    if per_token <= 0:  # every layer linear attention: no cache grows with the context
        state = sc.model.linear_state_bytes
        return {"max_context": None, "max_batch": int(room / state) if state else None, "kv_bytes_per_token": 0.0}
    # linear-attention state (Qwen3-Next) is fixed per sequence: only the rest grows with the context
    max_ctx = int(max(0.0, room - sc.model.linear_state_bytes * sc.batch) / (per_token * sc.batch))
    kv_seq = sc.model.kv_cache_bytes(sc.context, sc.kv_dtype_bytes) * copies
    max_batch = int(room / kv_seq) if kv_seq > 0 else None
    return {"max_context": max_ctx, "max_batch": max_batch, "kv_bytes_per_token": per_token}


def fitting_expert_layers(sc: Scenario, dev: Devices, kv_sequences: int) -> int:
    """Routed-expert layers a hybrid placement can hold on its GPUs: the GPU memory left (after the
    runtime reserve) beside everything else the placement keeps there and the KV cache of
    ``kv_sequences`` sequences at ``sc.context``, divided by one MoE layer's routed-expert weights —
    as a user sets llama.cpp's ``--n-cpu-moe`` or KTransformers' GPU experts to fill the card."""
    m = sc.model
    if dev.unified or not dev.gpu_capacity or not m.n_moe_layers:
        return 0
    base = replace(sc, gpu_expert_layers=0, batch=max(1, kv_sequences))
    need = sum(memory_breakdown(base, "hybrid", dev.unified)["gpu"].values())
    spare = dev.gpu_capacity * (1 - GPU_RESERVE_FRAC) - need
    per_layer = sc.quant.weight_bytes(m).get("routed_experts", 0.0) / m.n_moe_layers
    if spare <= 0 or per_layer <= 0:
        return 0
    return min(m.n_moe_layers, int(spare // per_layer))
