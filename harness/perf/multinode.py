"""Expert parallelism over every GPU of several nodes (DeepSeek's serving layout): per-GPU bytes,
all-to-all dispatch and combine over the interconnect with DeepEP's latency floor."""

from __future__ import annotations

import math

from harness.hardware.machine import Machine
from harness.perf.devices import GB, Devices
from harness.perf.engines import EngineProfile
from harness.perf.overheads import engine_overhead
from harness.workload.scenario import Scenario


# DeepSeek's DeepEP dispatches tokens to experts in FP8 (1 byte/element) and combines in BF16
# (2 bytes/element): DeepEP README, "normal kernels" section.
DISPATCH_BYTES, COMBINE_BYTES = 1.0, 2.0


def decode_step_ep(sc: Scenario, machine: Machine, dev: Devices,
                   eng: EngineProfile) -> tuple[float, dict[str, float], dict[str, float], str]:
    """Expert parallelism over every GPU of every node (DeepSeek's serving layout): attention and
    dense weights replicated (data-parallel attention), routed experts spread over all GPUs,
    tokens dispatched to and combined from their experts by all-to-all over the interconnect."""
    m = sc.model
    gpus_per_node = machine.gpu_count
    n = max(1, gpus_per_node * machine.nodes)
    read = sc.quant.read_bytes(m)
    dense = sum(v for k, v in read.items() if k not in ("routed_experts", "mtp"))
    per_expert = read.get("routed_experts", 0.0) / max(1, m.experts_per_token * m.n_moe_layers)
    touched_per_gpu = (m.n_routed_experts / n) * (1 - (1 - m.experts_per_token / max(1, m.n_routed_experts)) ** sc.batch) \
        if m.n_routed_experts else 0.0
    seqs_per_gpu = sc.batch / n
    gpu_bytes = dense + m.n_moe_layers * touched_per_gpu * per_expert + seqs_per_gpu * m.kv_read_bytes(sc.context, sc.kv_dtype_bytes)
    one_gpu_bw = dev.gpu_bw / max(1, gpus_per_node) if eng.multi_gpu == "tensor" else dev.gpu_bw
    one_gpu_flops = dev.gpu_flops / max(1, gpus_per_node)
    one_gpu_attn = dev.gpu_attn_flops / max(1, gpus_per_node)
    flops = 2.0 * sum(v for k, v in m.read_params.items() if k not in ("mtp", "embedding")) * seqs_per_gpu
    attn_flops = m.decode_attention_flops_per_token(sc.context) * seqs_per_gpu
    mem_t = gpu_bytes / one_gpu_bw if one_gpu_bw else math.inf
    cmp_t = (flops / one_gpu_flops + attn_flops / one_gpu_attn) if one_gpu_flops and one_gpu_attn else 0.0
    times = {("GPU memory" if mem_t >= cmp_t else "GPU compute"): max(mem_t, cmp_t)}
    tokens_per_node = sc.batch / machine.nodes
    remote = (machine.nodes - 1) / machine.nodes
    comm_bytes = tokens_per_node * m.experts_per_token * m.hidden_size * (DISPATCH_BYTES + COMBINE_BYTES) \
        * m.n_moe_layers * remote
    link = (machine.interconnect_gbs or 0.0) * GB
    comm_t = comm_bytes / link if link else (math.inf if comm_bytes else 0.0)
    # Each MoE layer's dispatch + combine also has a latency floor, however few bytes move.
    floor_t = m.n_moe_layers * all_to_all_latency_s(n) if machine.nodes > 1 else 0.0
    comm_t = max(comm_t, floor_t)
    # Dual micro-batch overlap (DeepSeek inference-system overview, day 6): communication hides
    # behind computation, so only the part longer than the GPU time shows.
    times["interconnect"] = max(0.0, comm_t - times[next(iter(times))])
    times["engine overhead"] = engine_overhead(m, "multi-node", dev, eng)
    note = (f"multi-node: experts spread over {n} GPUs ({machine.nodes} nodes × {gpus_per_node}), attention "
            f"replicated; all-to-all {comm_bytes / 1e6:.1f} MB per node per step over "
            f"{machine.interconnect_gbs or 0:g} GB/s, at least {all_to_all_latency_s(n) * 1e6:.0f} µs "
            f"dispatch + combine latency per MoE layer (DeepEP low-latency kernels at EP{n}), overlapped "
            f"with compute (dual micro-batch)")
    return sum(times.values()), times, {"gpu": gpu_bytes, "interconnect": comm_bytes}, note


# DeepEP README, "Low-latency kernels with pure RDMA": H800 + CX7 400 Gb/s InfiniBand, 128 tokens per
# batch, 7168 hidden, top-8, FP8 dispatch / BF16 combine: (EP size, dispatch µs, combine µs).
DEEPEP_LOW_LATENCY_US = ((8, 77.0, 114.0), (16, 118.0, 195.0), (32, 155.0, 273.0), (64, 173.0, 314.0),
                         (128, 192.0, 369.0), (256, 194.0, 360.0))


def all_to_all_latency_s(ep: int) -> float:
    """Seconds one MoE layer's dispatch + combine takes at least over ``ep`` GPUs: DeepEP's measured
    low-latency figures, interpolated in log(EP), held flat outside the measured range."""
    pts = [(math.log2(e), (d + c) * 1e-6) for e, d, c in DEEPEP_LOW_LATENCY_US]
    x = math.log2(max(1, ep))
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]
