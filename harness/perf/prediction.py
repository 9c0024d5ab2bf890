"""Prediction of one scenario on one machine: decode and prefill tokens/s, TTFT, whether it fits,
the bottleneck, and every assumption made on the way.

The mechanisms live beside this module (devices, step, overheads, capacity, multinode, placement);
this one resolves the placement and engine, calls them in order and collects their notes. Engine
profiles are passed in: nothing here reads a file.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.capacity import (GPU_RESERVE_FRAC, HOST_RESERVE_FRAC, HOST_RESERVE_MIN_GB, capacity_limits,
                                   fit_ep, fits_on, fitting_expert_layers, memory_breakdown, memory_per_gpu_ep)
from harness.perf.devices import Devices, devices_for
from harness.perf.engines import EngineSet, auto_engine, check_engine_on
from harness.perf.multinode import decode_step_ep
from harness.perf.placement import resolve_placement, tensor_parallel_size
from harness.perf.step import decode_step, gpu_expert_share, gpu_kernel_penalty, prefill_rate, unique_experts
from harness.workload.scenario import BACKENDS, Scenario

# DeepSeek-V3 technical report §5.4.3: the MTP token is accepted 85–90% of the time, 1.8× TPS.
MTP_ACCEPTANCE = 0.85


@dataclass(frozen=True)
class Prediction:
    inputs: dict[str, Any]
    engine: str
    placement: str
    decode_tokens_per_s: float | None  # per user (= aggregate at batch 1)
    aggregate_tokens_per_s: float | None
    prefill_tokens_per_s: float | None
    ttft_s: float | None
    fits: bool
    bottleneck: str
    time_per_token_s: dict[str, float]  # where a decode step's time goes
    bytes_per_token: dict[str, float]  # bytes read per decode step by device
    memory: dict[str, dict[str, float]]  # resident bytes by device and tensor class
    capacity: dict[str, Any]
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CPU_FIELDS = ("cpu_bw_frac", "numa_gain", "cpu_layer_us", "cpu_thread_us", "cpu_flops_frac", "cpu_gemm_frac")
_GPU_FIELDS = ("gpu_bw_frac", "gpu_layer_us", "moe_layer_us", "gpu_flops_frac", "tp_layer_us", "vulkan_bf16_moe_frac")
# the profile fields each placement's step reads
_FIELDS_USED = {"cpu": _CPU_FIELDS, "gpu": _GPU_FIELDS, "multi-node": _GPU_FIELDS, "hybrid": _CPU_FIELDS + _GPU_FIELDS}


def predict(machine: Machine, sc: Scenario, engines: EngineSet) -> Prediction:
    """Predict decode and prefill for one scenario on one machine."""
    if sc.batch < 1:
        raise HarnessError(f"batch must be >= 1, got {sc.batch} — pass --batch 1 or more")
    if sc.context < 0 or sc.prompt < 0 or sc.prefill_depth < 0:
        raise HarnessError("context and prompt lengths must be >= 0 — pass e.g. --context 4096")
    if sc.backend not in BACKENDS:
        raise HarnessError(f"unknown backend {sc.backend!r} — use one of: {', '.join(BACKENDS)}")
    requested = sc.placement
    placement, refused = _auto(machine, sc, engines) if requested == "auto" else (resolve_placement(machine, requested), None)
    eng_name = auto_engine(placement, machine.gpu_count, machine.nodes) if sc.engine == "auto" else sc.engine
    eng = engines.resolve(eng_name)
    check_engine_on(eng, [g.model for g in machine.gpus], placement)
    notes: list[str] = []
    if requested == "auto":
        notes.append(f"placement auto → {placement} (the fastest that fits)")
        placement_note = len(notes) - 1
    if sc.engine == "auto":
        notes.append(f"engine auto → {eng.name} (usual engine for {placement} placement)")
    notes.append(f"engine profile {eng.name}: {eng.note}")
    leaned = [f for f in eng.placeholders if f in _FIELDS_USED.get(placement, ())]
    if leaned:
        notes.append(f"placeholder values in the {eng.name} profile that this placement uses: {', '.join(leaned)} "
                     "(no calibration row binds them; harness/data/engine_fit.json says where each comes from)")
    notes += [f"machine: {n}" for n in machine.notes]
    if machine.nodes > 1 and placement != "multi-node":
        notes.append(f"[cluster] of {machine.nodes} boxes: the {placement} placement does not spread one model over "
                     "them, so they serve as replicas behind a load balancer; these figures are one box's (users "
                     "served and cost count every box)")
    if sc.model.linear_state_elems:
        sc = replace(sc, model=replace(sc.model, linear_state_dtype_bytes=eng.linear_state_bytes))
        notes.append(f"linear-attention state: {sc.model.linear_state_bytes / 1e6:.0f} MB per sequence "
                     f"({eng.linear_state_bytes:g} bytes per element in {eng.name}), read and written every step")
    if placement == "gpu":
        tp = tensor_parallel_size(machine, sc, eng)
        if tp < machine.gpu_count:
            notes.append(f"tensor parallel over {tp} of the {machine.gpu_count} GPUs: the fastest power-of-two "
                         f"split that fits (more GPUs add bandwidth but also per-layer collectives); capacity and "
                         f"throughput are for one such replica, the node holds {machine.gpu_count // tp}")
            machine = replace(machine, gpus=(replace(machine.gpus[0], count=tp),))
    dev = devices_for(machine, eng, placement)
    notes += dev.notes
    if placement == "hybrid":
        sc, note = with_expert_layers(sc, dev, sc.batch)
        notes += [note] if note else []
    if placement == "multi-node":
        mem = memory_per_gpu_ep(sc, machine)
        fits, cap = fit_ep(mem, machine)
    else:
        mem = memory_breakdown(sc, placement, dev.unified)
        fits, cap = fits_on(mem, dev, placement)
        cap.update(capacity_limits(sc, placement, dev, mem))
    if placement == "multi-node":
        step, times, by, ep_note = decode_step_ep(sc, machine, dev, eng)
        notes.append(ep_note)
    else:
        step, times, by = decode_step(sc, placement, dev, eng)
    per_user = 1.0 / step if step and math.isfinite(step) else None
    if per_user and sc.mtp and eng.mtp and sc.model.params.get("mtp"):
        per_user *= 1 + MTP_ACCEPTANCE
        notes.append(f"DeepSeek MTP: ×{1 + MTP_ACCEPTANCE:.2f} (acceptance {MTP_ACCEPTANCE}, DeepSeek-V3 report §5.4.3)")
    prefill = prefill_rate(sc, placement, dev)
    ttft = (sc.prompt / prefill + (1 / per_user if per_user else 0.0)) if prefill else None
    notes += _workload_notes(sc)
    if (placement == "gpu" or gpu_expert_share(sc, placement)) and gpu_kernel_penalty(sc, eng) < 1.0:  # experts on a GPU it slows
        notes.append(f"{sc.backend} backend without a BF16 expert mat-vec path: routed experts stream at "
                     f"{gpu_kernel_penalty(sc, eng):.2f} of the GPU rate ({eng.name} profile)")
    notes.append(f"fit: host memory keeps max({HOST_RESERVE_MIN_GB:g} GB, {HOST_RESERVE_FRAC:.0%}) for the OS and "
                 f"engine buffers; each GPU keeps {GPU_RESERVE_FRAC:.0%} (vLLM's gpu_memory_utilization 0.9)")
    if refused:
        notes[placement_note] = refused
    elif requested == "auto" and not fits:  # auto falls back to cpu when no placement fits
        notes[placement_note] = f"placement auto → {placement}: no placement fits this machine, so the answer says why"
    bottleneck = "does not fit" if not fits else max(times, key=times.get)
    return Prediction(
        inputs=sc.inputs() | {"placement_resolved": placement, "engine_resolved": eng.name},
        engine=eng.name, placement=placement,
        decode_tokens_per_s=per_user, aggregate_tokens_per_s=(per_user * sc.batch if per_user else None),
        prefill_tokens_per_s=prefill, ttft_s=ttft, fits=fits, bottleneck=bottleneck,
        time_per_token_s=times, bytes_per_token=by, memory=mem, capacity=cap, assumptions=notes,
    )


def _workload_notes(sc: Scenario) -> list[str]:
    m = sc.model
    notes = [f"model {m.id}: {m.total_params / 1e9:.1f}B total, {m.active_total / 1e9:.1f}B activated per token",
             f"quant {sc.quant.name}; KV cache {sc.kv_dtype_bytes:g} bytes/element, context {sc.context} tokens"]
    if m.n_routed_experts:
        notes.append(f"routing uniform: batch {sc.batch} touches "
                     f"{unique_experts(m.n_routed_experts, m.experts_per_token, sc.batch):.1f} of "
                     f"{m.n_routed_experts} experts per MoE layer")
    return notes


def with_expert_layers(sc: Scenario, dev: Devices, kv_sequences: int) -> tuple[Scenario, str | None]:
    """A hybrid scenario with its GPU expert layers resolved (as many as fit, unless given) and the
    sentence that says where the routed experts live."""
    n = sc.model.n_moe_layers
    if not n:
        return sc, None
    given = sc.gpu_expert_layers is not None
    layers = min(n, max(0, sc.gpu_expert_layers)) if given else fitting_expert_layers(sc, dev, kv_sequences)
    sc = replace(sc, gpu_expert_layers=layers)
    if not layers:
        return sc, None if not given else "routed experts of every MoE layer in host RAM (--gpu-expert-layers 0)"
    how = "as given (--gpu-expert-layers)" if given else (
        f"as many as the GPU memory left beside the rest of the model and the KV cache of {kv_sequences} "
        f"sequence{'s' if kv_sequences != 1 else ''} holds (--gpu-expert-layers fixes it)")
    return sc, (f"routed experts of {layers} of the {n} MoE layers on the GPU, {how}; the other {n - layers} "
                "layers' experts in host RAM, computed by the CPU")


# auto never answers a larger batch with a placement this many times slower per user than the one that
# serves one user best (the 8x H20 case: KTransformers at 0.3 tok/s once vLLM's KV cache is full):
# it keeps the fast placement, which then does not fit, and says what would.
SLOWER_LIMIT = 10.0


def auto_placement(machine: Machine, sc: Scenario, engines: EngineSet) -> str:
    """The fastest placement that fits (cpu when nothing fits, so the answer says why); an engine
    that runs on one placement only (MLX: the Apple GPU) has that one."""
    return _auto(machine, sc, engines)[0]


def _fastest(machine: Machine, sc: Scenario, engines: EngineSet) -> tuple[str, float]:
    options = ["cpu"]
    if machine.gpus:
        options += ["gpu", "hybrid"] if sc.model.n_routed_experts else ["gpu"]
    if machine.nodes > 1 and machine.gpus:
        options.append("multi-node")
    best, best_rate = "cpu", -1.0
    for p in options:
        if p == "hybrid" and best == "gpu":  # experts go to host RAM only where the GPUs cannot hold them
            continue
        pred = predict(machine, replace(sc, placement=p), engines)
        rate = pred.decode_tokens_per_s or 0.0
        if pred.fits and rate > best_rate:
            best, best_rate = p, rate
    return best, best_rate


def _auto(machine: Machine, sc: Scenario, engines: EngineSet) -> tuple[str, str | None]:
    """The placement auto picks and, when it refused a far slower one, the note that says so."""
    if sc.engine != "auto" and engines.resolve(sc.engine).apple_only:
        return "gpu", None
    best, rate = _fastest(machine, sc, engines)
    if sc.batch <= 1:
        return best, None
    alone, alone_rate = _fastest(machine, replace(sc, batch=1), engines)
    if alone == best or alone_rate <= SLOWER_LIMIT * max(rate, 0.0):
        return best, None
    held = _most_that_fit(machine, replace(sc, placement=alone), engines)
    return alone, (f"placement auto → {alone}: {sc.batch} users do not fit there, and what does ({best}, "
                   f"{max(rate, 0.0):.2g} tok/s per user) is over {SLOWER_LIMIT:g}× slower than {alone} for one user "
                   f"({alone_rate:.3g} tok/s), so auto does not switch: {alone} holds {held} users at this context; "
                   "fewer users, an FP8 KV cache (--kv-bytes 1), a smaller quant or another node would fit")


def _most_that_fit(machine: Machine, sc: Scenario, engines: EngineSet) -> int:
    """The largest batch below ``sc.batch`` that fits with ``sc.placement``."""
    lo, hi = 0, sc.batch  # fits(lo) (trivially for 0), not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if predict(machine, replace(sc, batch=mid), engines).fits else (lo, mid)
    return lo
