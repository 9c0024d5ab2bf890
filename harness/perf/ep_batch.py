"""The step time of one data-parallel attention rank under expert parallelism (SGLang's
``--enable-dp-attention --ep N``, DeepSeek's serving layout), for any batch composition.

Every GPU of the group is a rank: it holds the attention and other dense weights whole and runs its
own requests through them, and holds 1/N of the routed experts, which every rank's tokens reach by
an all-to-all dispatch and combine per MoE layer. The ranks of a loaded group carry the same batch
(a router spreads the requests), so one rank's iteration is the group's: its own dense work and KV
reads, its share of the experts the whole group's tokens touch, and the all-to-all of its tokens,
hidden behind computation where the engine overlaps two micro-batches (DeepSeek day 6, SGLang TBO).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.batch import IterationTime, activation_scale
from harness.perf.capacity import GPU_RESERVE_FRAC
from harness.perf.devices import GB, GPU_GB, Devices, devices_for
from harness.perf.engines import EngineProfile
from harness.perf.multinode import COMBINE_BYTES, DISPATCH_BYTES, all_to_all_latency_s
from harness.perf.overheads import engine_overhead
from harness.perf.step import unique_experts
from harness.workload.scenario import Scenario

# One 400 Gb/s InfiniBand/RoCE NIC per GPU (DGX H100/H800/H200 and HGX B200 reference designs):
# 50 GB/s per direction per GPU, used when a cluster spec gives no interconnect figure.
DEFAULT_NIC_GBS = 50.0


@dataclass(frozen=True)
class EpStepModel(IterationTime):
    """Per-iteration time of one rank of an expert-parallel group (see the module docstring)."""

    model: Any
    kv_dtype_bytes: float
    engine: EngineProfile
    devices: Devices  # one GPU's rates
    ranks: int  # GPUs in the group, each a data-parallel attention rank
    gpus_per_node: int
    link_bytes_per_s: float  # one GPU's share of its node's network, one direction
    dense_bytes: float  # replicated weights each rank reads every step
    per_expert_bytes: float  # one routed expert of one layer
    dense_flops_per_token: float
    expert_flops_per_token: float  # the k routed experts of every MoE layer
    overhead_s: float
    kv_capacity_tokens: int  # per rank
    active: int | None = None  # ranks with requests (None: all)
    overlap: bool = True  # communication hidden behind computation (two micro-batches)
    prefill_scale: float = 1.0
    step_scale: float = 1.0
    seq_overhead_s: float = 0.0  # per decoding request beyond the first, per step (serving fit)
    prefill_token_s: float = 0.0  # per prompt token a rank prefills, beyond its FLOPs (serving fit)
    placement: str = "expert-parallel"
    notes: tuple[str, ...] = ()

    @property
    def replicas(self) -> int:
        """Ranks a load is split over (``serving.point`` splits it evenly)."""
        return self.ranks

    def with_active(self, active: int) -> EpStepModel:
        return replace(self, active=max(1, min(self.ranks, active)))

    def parts(self, n_decode: int, decode_ctx: float, prefill_tokens: int = 0,
              prefill_ctx: float = 0.0) -> dict[str, float]:
        m, dev = self.model, self.devices
        tokens = n_decode + prefill_tokens
        if tokens <= 0:
            return {}
        active = self.active or self.ranks
        group_tokens = tokens * active
        touched = unique_experts(m.n_routed_experts, m.experts_per_token, group_tokens) / self.ranks
        kv_read = m.kv_read_bytes(round(decode_ctx), self.kv_dtype_bytes) * n_decode if n_decode else 0.0
        mem = self.dense_bytes + m.n_moe_layers * touched * self.per_expert_bytes + kv_read
        work = n_decode + prefill_tokens * self.prefill_scale
        flops = self.dense_flops_per_token * work + self.expert_flops_per_token * work * active / self.ranks
        attn = m.decode_attention_flops_per_token(round(decode_ctx)) * n_decode if n_decode else 0.0
        prefill_attn = (m.attention_flops_per_token(max(1, round(prefill_ctx))) * prefill_tokens * self.prefill_scale
                        if prefill_tokens else 0.0)
        mem_t = mem / dev.gpu_bw if dev.gpu_bw else math.inf
        cmp_t = (flops + prefill_attn) / dev.gpu_flops + attn / dev.gpu_attn_flops if dev.gpu_flops else 0.0
        cmp_t += prefill_tokens * self.prefill_token_s * activation_scale(m)
        gpu_t = max(mem_t, cmp_t)
        out = {"GPU memory" if mem_t >= cmp_t else "GPU compute": gpu_t}
        if self.ranks > 1:
            remote = max(0.0, (self.ranks - self.gpus_per_node) / self.ranks)  # the rest moves over NVLink
            comm = tokens * m.experts_per_token * m.hidden_size * (DISPATCH_BYTES + COMBINE_BYTES) * m.n_moe_layers
            comm_t = comm * remote / self.link_bytes_per_s if self.link_bytes_per_s else (math.inf if remote else 0.0)
            comm_t = max(comm_t, m.n_moe_layers * all_to_all_latency_s(self.ranks))
            out["interconnect"] = max(0.0, comm_t - gpu_t) if self.overlap else comm_t
        out["engine overhead"] = self.overhead_s + self.seq_overhead_s * max(0, n_decode - 1)
        return out


def ep_step_model(machine: Machine, sc: Scenario, eng: EngineProfile, *, nodes: int | None = None) -> EpStepModel:
    """The rank model of ``sc`` spread over every GPU of ``nodes`` nodes of ``machine`` (default: all
    of its nodes), attention data-parallel and routed experts expert-parallel."""
    if not machine.gpus or len(machine.gpus) != 1 or machine.gpus[0].unified_memory:
        raise HarnessError("expert parallelism needs a node of identical discrete GPUs")
    nodes = nodes or machine.nodes
    g = machine.gpus[0]
    per_node = g.count
    ranks = per_node * nodes
    m = sc.model
    if m.n_routed_experts < 2:
        raise HarnessError(f"{m.id} has no routed experts to spread: expert parallelism does not apply")
    one = replace(machine, gpus=(replace(g, count=1),), nodes=1)
    dev = devices_for(one, eng, "gpu")
    read = sc.quant.read_bytes(m)
    routed = read.get("routed_experts", 0.0)
    dense = sum(v for k, v in read.items() if k not in ("routed_experts", "mtp"))
    per_expert = routed / max(1, m.experts_per_token * m.n_moe_layers)
    params = {k: v for k, v in m.read_params.items() if k not in ("mtp", "embedding")}
    expert_fpt = 2.0 * params.pop("routed_experts", 0.0)
    dense_fpt = 2.0 * sum(params.values())
    weights = sc.quant.weight_bytes(m)
    on_gpu = sum(b / ranks if cls == "routed_experts" else b for cls, b in weights.items()
                 if b and (cls != "mtp" or sc.mtp))
    room = g.memory_gb * GPU_GB * (1 - GPU_RESERVE_FRAC) - on_gpu
    per_token = m.kv_bytes_per_token(sc.kv_dtype_bytes)
    if room <= 0:
        raise HarnessError(f"{m.id} does not fit expert-parallel over {ranks} × {g.model}: each GPU needs "
                           f"{on_gpu / GB:.0f} GB of weights (dense layers whole, 1/{ranks} of the experts) and "
                           f"keeps {g.memory_gb * (1 - GPU_RESERVE_FRAC):.0f} GB — use more GPUs")
    link_gbs = (machine.interconnect_gbs / per_node) if machine.interconnect_gbs else DEFAULT_NIC_GBS
    notes = [f"expert parallel over {ranks} GPUs ({nodes} node{'s' if nodes > 1 else ''} × {per_node}), attention "
             f"data-parallel (each GPU its own requests); each GPU holds {on_gpu / GB:.0f} GB of weights",
             *(([f"all-to-all over the network at {link_gbs:g} GB/s per GPU"
                 + ("" if machine.interconnect_gbs else " (assumed: one 400 Gb/s NIC per GPU; give [cluster] "
                    "interconnect_gbs)")] if nodes > 1 else [])),
             "dispatch in FP8 and combine in BF16 (DeepEP), at least DeepEP's low-latency time per MoE layer, "
             "overlapped with computation (two micro-batches)"]
    return EpStepModel(
        model=m, kv_dtype_bytes=sc.kv_dtype_bytes, engine=eng, devices=dev, ranks=ranks, gpus_per_node=per_node,
        link_bytes_per_s=link_gbs * GB, dense_bytes=dense, per_expert_bytes=per_expert, dense_flops_per_token=dense_fpt,
        expert_flops_per_token=expert_fpt, overhead_s=engine_overhead(m, "multi-node", dev, eng),
        kv_capacity_tokens=int(room / per_token) if per_token > 0 else 10 ** 9, notes=tuple(notes) + dev.notes)
