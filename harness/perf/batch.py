"""The step time of one iteration of a serving engine, for any batch composition: decoding
sequences at their context lengths and prompt tokens prefilled in the same step (chunked prefill).

Built once per (machine, scenario, engines) from the same terms as ``step.decode_step`` — bytes
and FLOPs per device, the roofline, the engine's per-step overhead — and then evaluated with plain
arithmetic, so a simulator can call it for every iteration. With one decoding sequence and no
prefill it is the batch-1 decode step exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.capacity import kv_copies, kv_room_bytes, memory_breakdown
from harness.perf.devices import Devices, devices_for
from harness.perf.engines import EngineProfile, EngineSet, auto_engine, check_engine_on
from harness.perf.overheads import engine_overhead
from harness.perf.placement import resolve_placement, tensor_parallel_size
from harness.perf.prediction import auto_placement, with_expert_layers
from harness.perf.step import device_of, gpu_kernel_penalty, integer_weights, split_by_device, unique_experts
from harness.workload.scenario import Scenario

DEVICES = ("host", "gpu")

# A hybrid serving deployment leaves GPU memory for the KV cache of this many running requests before
# it fills the rest with routed experts: KTransformers balance_serve's max_batch_size 4 (its example
# configuration, the scheduler's own placeholder in harness.serving.scheduler).
HYBRID_KV_SEQUENCES = 4


class IterationTime:
    """``time`` from ``parts``: the sum of where an iteration's time goes, times the era's scale."""

    step_scale: float

    def parts(self, n_decode: int, decode_ctx: float, prefill_tokens: int = 0,
              prefill_ctx: float = 0.0) -> dict[str, float]:
        raise NotImplementedError

    def time(self, n_decode: int, decode_ctx: float, prefill_tokens: int = 0, prefill_ctx: float = 0.0) -> float:
        """Seconds of one iteration: ``n_decode`` sequences decoding one token each at a mean context
        of ``decode_ctx`` tokens, plus ``prefill_tokens`` prompt tokens whose attention spans
        ``prefill_ctx`` positions on average."""
        return sum(self.parts(n_decode, decode_ctx, prefill_tokens, prefill_ctx).values()) * self.step_scale


@dataclass(frozen=True)
class StepModel(IterationTime):
    """Per-device coefficients of one iteration's time (see ``time``)."""

    model: Any  # ModelShape: KV and attention as functions of context length
    kv_dtype_bytes: float
    placement: str
    engine: EngineProfile
    devices: Devices
    dense_bytes: dict[str, float]  # non-expert weights read every step
    expert_bytes: dict[str, float]  # routed-expert bytes one token reads (k experts per MoE layer)
    shared_bytes_gpu: float  # shared-expert bytes on the GPU (hybrid overlap)
    flops_per_token: dict[str, float]  # 2 x parameters read per token, by device
    kv_device: str
    expert_slow: float  # extra share of expert bytes a backend's slow path costs on the GPU
    overhead_s: float  # fixed seconds per step (per-layer engine floors)
    kv_capacity_tokens: int  # KV-cache tokens that fit beside the weights
    integer_weights: bool = False  # CPU multiplies the experts at its int8 dot-product rate
    prefill_scale: float = 1.0  # prefill compute time relative to the GEMM rate (serving fit)
    step_scale: float = 1.0  # the whole step relative to the model (an engine era's slowdown; serving fit)
    replicas: int = 1  # copies of this replica the node holds (GPUs // tensor-parallel size)
    seq_overhead_s: float = 0.0  # per decoding request beyond the first, per step (serving fit)
    # per prompt token, on one GPU, beyond its FLOPs, for DeepSeek-V3's activations (other models in
    # proportion, activation_scale): prefill work that does not scale with a GPU's FLOP/s (shared by the
    # GPUs of a tensor-parallel replica; serving fit)
    prefill_token_s: float = 0.0
    notes: tuple[str, ...] = ()

    def parts(self, n_decode: int, decode_ctx: float, prefill_tokens: int = 0,
              prefill_ctx: float = 0.0) -> dict[str, float]:
        """Where one iteration's time goes (the same names as a prediction's ``time_per_token_s``)."""
        m, dev = self.model, self.devices
        tokens = n_decode + prefill_tokens
        if tokens <= 0:
            return {}
        k = max(1, m.experts_per_token)
        scale = unique_experts(m.n_routed_experts, m.experts_per_token, tokens) / k
        kv_read = m.kv_read_bytes(round(decode_ctx), self.kv_dtype_bytes) * n_decode if n_decode else 0.0
        attn = m.decode_attention_flops_per_token(round(decode_ctx)) * n_decode if n_decode else 0.0
        prefill_attn = m.attention_flops_per_token(max(1, round(prefill_ctx))) * prefill_tokens if prefill_tokens else 0.0
        out: dict[str, float] = {}
        host_t = 0.0
        for d in DEVICES:
            experts = self.expert_bytes[d] * scale
            mem = self.dense_bytes[d] + experts + (kv_read if d == self.kv_device else 0.0)
            if not mem and not self.flops_per_token[d]:
                continue
            if d == "host":
                rate = dev.host_flops * (dev.host_int8_dot if self.integer_weights else 1.0)
                gemm = dev.host_gemm_flops or dev.host_flops
                mem_t = mem / dev.host_bw if dev.host_bw else math.inf
                cmp_t = (self.flops_per_token[d] * n_decode / rate if rate else 0.0)
                cmp_t += self.flops_per_token[d] * prefill_tokens * self.prefill_scale / gemm if gemm else 0.0
                if d == self.kv_device:
                    cmp_t += (attn + prefill_attn * self.prefill_scale) / gemm if gemm else 0.0
                host_t = max(mem_t, cmp_t)
                out["host memory" if mem_t >= cmp_t else "host compute"] = host_t
            else:
                mem_t = (mem + experts * self.expert_slow) / dev.gpu_bw if dev.gpu_bw else math.inf
                cmp_t = (self.flops_per_token[d] * (n_decode + prefill_tokens * self.prefill_scale) / dev.gpu_flops
                         if dev.gpu_flops else 0.0)
                if d == self.kv_device and dev.gpu_flops:
                    cmp_t += attn / dev.gpu_attn_flops + prefill_attn * self.prefill_scale / dev.gpu_flops
                cmp_t += prefill_tokens * self.prefill_token_s * activation_scale(m) / max(1, dev.tensor_parallel)
                gpu_t = max(mem_t, cmp_t)
                if self.placement == "hybrid" and self.engine.overlaps_shared_experts and host_t and mem_t >= cmp_t:
                    gpu_t -= min(self.shared_bytes_gpu / dev.gpu_bw if dev.gpu_bw else 0.0, host_t)
                out["GPU memory" if mem_t >= cmp_t else "GPU compute"] = gpu_t
        out["engine overhead"] = self.overhead_s + self.seq_overhead_s * max(0, n_decode - 1)
        return out


# The per-token prefill work beyond FLOPs (normalisation, routing, permutation, activations moved
# between kernels) grows with the activations a token carries through the model: layers x hidden size,
# relative to DeepSeek-V3's 61 x 7168, the model the serving constant is stated for.
REF_ACTIVATIONS = 61 * 7168


def activation_scale(model: Any) -> float:
    """A model's per-token activations (layers x hidden size) relative to DeepSeek-V3's."""
    return model.n_layers * model.hidden_size / REF_ACTIVATIONS


def _capacity_tokens(sc: Scenario, placement: str, dev: Devices) -> int:
    """KV-cache tokens that fit where the cache lives, after the weights and the reserves (each GPU of a
    tensor-parallel group holding its copy where attention heads cannot be split further)."""
    room = kv_room_bytes(placement, dev, memory_breakdown(replace(sc, context=0, batch=1), placement, dev.unified))
    copies = kv_copies(sc.model, dev.tensor_parallel) if placement == "gpu" and not dev.unified else 1
    per_token = sc.model.kv_bytes_per_token(sc.kv_dtype_bytes) * copies
    if per_token <= 0:
        return 10 ** 9
    return max(0, int(room / per_token))


def step_model(machine: Machine, sc: Scenario, engines: EngineSet, *, tensor_parallel: int | None = None) -> StepModel:
    """The iteration-time model of one replica of ``sc`` on ``machine``: placement and engine resolved
    as ``predict`` resolves them, the tensor-parallel size too unless ``tensor_parallel`` fixes it; a
    node of N GPUs then holds ``replicas`` = N // tp of them."""
    placement = auto_placement(machine, sc, engines) if sc.placement == "auto" else resolve_placement(machine, sc.placement)
    if placement == "multi-node":
        raise HarnessError("a step model covers one node (cpu, hybrid, gpu placements); a cluster is served expert "
                           "parallel (harness.perf.ep_batch, through harness.serving.deployment)")
    eng = engines.resolve(auto_engine(placement, machine.gpu_count, machine.nodes) if sc.engine == "auto" else sc.engine)
    check_engine_on(eng, [g.model for g in machine.gpus], placement)
    replicas = 1
    if placement == "gpu":
        tp = tensor_parallel or tensor_parallel_size(machine, sc, eng)
        if not 1 <= tp <= machine.gpu_count:
            raise HarnessError(f"--tensor-parallel {tp}: the machine has {machine.gpu_count} GPU(s)")
        if tp < machine.gpu_count and len(machine.gpus) == 1:
            replicas = machine.gpu_count // tp
            machine = replace(machine, gpus=(replace(machine.gpus[0], count=tp),))
    if sc.model.linear_state_elems:
        sc = replace(sc, model=replace(sc.model, linear_state_dtype_bytes=eng.linear_state_bytes))
    dev = devices_for(machine, eng, placement)
    notes = dev.notes
    if placement == "hybrid":  # room for the KV cache of the engine's running requests (KTransformers: 4)
        sc, note = with_expert_layers(sc, dev, max(sc.batch, HYBRID_KV_SEQUENCES))
        notes += (note,) if note else ()
    read = sc.quant.read_bytes(sc.model)
    dense = {d: 0.0 for d in DEVICES}
    experts = {d: 0.0 for d in DEVICES}
    for cls, b in read.items():
        if cls == "mtp" or not b:
            continue
        target = experts if cls == "routed_experts" else dense
        for dev_name, part in split_by_device(cls, b, sc, placement, dev.unified).items():
            target[dev_name] += part
    fpt = {d: 0.0 for d in DEVICES}
    for cls, p in sc.model.read_params.items():
        if cls not in ("mtp", "embedding"):
            for dev_name, part in split_by_device(cls, 2.0 * p, sc, placement, dev.unified).items():
                fpt[dev_name] += part
    shared = read.get("shared_experts", 0.0) if device_of("shared_experts", placement, dev.unified) == "gpu" else 0.0
    return StepModel(
        model=sc.model, kv_dtype_bytes=sc.kv_dtype_bytes, placement=placement, engine=eng, devices=dev,
        dense_bytes=dense, expert_bytes=experts, shared_bytes_gpu=shared, flops_per_token=fpt,
        kv_device=device_of("attention", placement, dev.unified),
        expert_slow=1 / gpu_kernel_penalty(sc, eng) - 1 if placement == "gpu" else 0.0,
        overhead_s=engine_overhead(sc.model, placement, dev, eng), kv_capacity_tokens=_capacity_tokens(sc, placement, dev),
        integer_weights=integer_weights(sc.quant), replicas=replicas, notes=tuple(notes))
