"""Prediction: decode/prefill tokens/s, TTFT, fit and bottleneck for a model on a machine.

Pure functions over ``Machine``, ``ModelShape``, ``QuantRecipe`` and ``EngineProfile``: no I/O,
no clock. Formulas follow ../shared/DESIGN.md "Workload formulas":

- bytes per token on each device = Σ weights resident there and read per token × bytes/weight,
  plus the KV cache read for the current context;
- device time = max(bytes / effective bandwidth, FLOPs / effective FLOP/s)  (roofline);
- token time = Σ device times (CPU and GPU take turns in a hybrid) + layers × engine overhead;
- batch B touches E·(1 − (1 − k/E)^B) routed experts per MoE layer (uniform routing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from harness.cpu_catalog import rating_for as cpu_rating_for
from harness.engines import EngineProfile, auto_engine, get_engine
from harness.errors import HarnessError
from harness.machine import GpuSpec, Machine

PLACEMENTS = ("auto", "cpu", "gpu", "hybrid", "multi-node")
# The largest scenario numbers any input may carry (CLI options, stored results): beyond any real
# context window or deployment, and small enough that every formula stays in float range.
MAX_TOKENS = 100_000_000
MAX_BATCH = 1_000_000
# GPU kernel backends an engine may run on; "auto" = the GPU vendor's own (CUDA, ROCm, Metal).
BACKENDS = ("auto", "cuda", "rocm", "vulkan", "metal")

# STREAM triad reaches about this share of channels × MT/s × 8 B on servers: calibration rows
# ik_9355_qwen235_iq6k_cpu / lcpp_9355_qwen235_q6k_cpu (likwid ~500 of 576 GB/s = 0.87) and
# ik_6980p_* (mlc 554.8 of 614.4 GB/s for 12ch DDR5-6400 = 0.90); we take the lower, 0.87.
PLATFORM_STREAM_EFF = 0.87
# Host memory a running OS and engine keep for themselves (kernel, services, engine buffers). An
# assumption, stated in every prediction's assumptions; measured here: a fresh 24 GB VM reports
# 23 GB available before anything runs.
HOST_RESERVE_FRAC = 0.05
HOST_RESERVE_MIN_GB = 4.0
# Per-GPU runtime reserve: CUDA context, activations, allocator slack (vLLM's default
# gpu_memory_utilization 0.9 leaves 10%).
GPU_RESERVE_FRAC = 0.10
# CPU peak FP32 FLOP/cycle/core when no GEMM was measured: AVX-512 two FMA units = 2·16·2,
# AVX2 two FMA units = 2·8·2 (Intel/AMD optimisation manuals); clock assumed 2.5 GHz.
FLOPS_PER_CYCLE = {"avx512f": 64.0, "avx2": 32.0}
DEFAULT_FLOPS_PER_CYCLE = 32.0
ASSUMED_CLOCK_GHZ = 2.5
# Decode attention over a long cache runs in flash-decoding kernels, not the GEMMs of prefill: FlashMLA
# (deepseek-ai/FlashMLA README) reaches 580 TFLOPS in its compute-bound configuration on an H800 SXM5
# (989 dense BF16): 0.59 of the rated rate, used for every engine's GPU decode attention.
DECODE_ATTN_FRAC = 0.59
# GPU per-layer floors (engine profiles' gpu_layer_us / moe_layer_us) are for a GPU of
# FLOOR_REF_TFLOPS dense BF16 and shrink as the square root of the GPU's rate (tensor-parallel
# collectives, tp_layer_us, do not: they wait on the interconnect): small kernels finish
# sooner on faster GPUs. The exponent is read off the published rows, floor per layer after the bytes
# at the GPU's bandwidth: M2 Max ~255 µs (13.6 TFLOPS), M2 Ultra ~195 (27), Radeon 8060S ~90 (59),
# GB10 ~90 (125), RTX 4090 ~50 (165), RTX PRO 6000 ~50 (500, full-rate workstation BF16): log-log
# least-squares slope -0.49.
FLOOR_REF_TFLOPS = 100.0
FLOOR_EXPONENT = 0.5
# DeepSeek-V3 technical report §5.4.3: the MTP token is accepted 85–90% of the time, 1.8× TPS.
MTP_ACCEPTANCE = 0.85
GB = 1e9


@dataclass(frozen=True)
class Scenario:
    """What to predict: model, quant recipe, engine, placement and load."""

    model: Any  # harness.models.ModelShape
    quant: Any  # harness.quant.QuantRecipe
    engine: str = "auto"
    placement: str = "auto"
    context: int = 4096
    prompt: int = 1024
    batch: int = 1
    kv_dtype_bytes: float = 2.0
    mtp: bool = False
    # GPU kernel backend of the engine ("cuda", "rocm", "vulkan", "metal"); "auto" = the GPU
    # vendor's own. Matters where a backend lacks a kernel path (see ``gpu_kernel_penalty``).
    backend: str = "auto"
    # tokens already in the KV cache when the prompt is processed (llama-bench's "pp N @ d D"): the
    # prompt's attention then spans depth + its own positions
    prefill_depth: int = 0

    def inputs(self) -> dict[str, Any]:
        return {"model": self.model.id, "quant": self.quant.name, "engine": self.engine,
                "placement": self.placement, "context": self.context, "prompt": self.prompt,
                "batch": self.batch, "kv_dtype_bytes": self.kv_dtype_bytes, "mtp": self.mtp,
                "backend": self.backend, "prefill_depth": self.prefill_depth}


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


@dataclass(frozen=True)
class _Devices:
    """Effective rates of the devices a placement uses."""

    host_bw: float  # effective bytes/s for weight streaming on the CPU side
    host_flops: float
    gpu_bw: float  # effective bytes/s of the GPU side (all GPUs that stream at once)
    gpu_flops: float
    host_capacity: float
    gpu_capacity: float  # total over GPUs (or the host's, for unified memory)
    unified: bool
    cpu_threads: int  # threads an engine runs its CPU kernels on (one per physical core)
    host_gemm_flops: float  # effective CPU FLOP/s in prefill GEMMs
    tensor_parallel: int = 1  # GPUs that run each layer together (tensor/expert parallel)
    host_int8_dot: float = 2.0  # int8 dot-product ops per FP32 FLOP of the CPU (harness.cpu_catalog, the note above CpuRating)
    gpu_attn_flops: float = 0.0  # FLOP/s of decode attention on the GPU side (DECODE_ATTN_FRAC of rated)
    floor_scale: float = 1.0  # GPU per-layer floors relative to a FLOOR_REF_TFLOPS GPU


def host_stream_bandwidth(machine: Machine) -> tuple[float | None, str]:
    """All-socket STREAM bandwidth in GB/s: measured when probed, else estimated from DIMMs."""
    if machine.measured_bandwidth_gbs:
        return machine.measured_bandwidth_gbs, (
            f"host bandwidth {machine.measured_bandwidth_gbs:.1f} GB/s measured (STREAM triad, all cores)")
    theo = theoretical_bandwidth(machine)
    if theo:
        est = theo * PLATFORM_STREAM_EFF
        return est, (f"host bandwidth not measured: {theo:.0f} GB/s theoretical (channels × MT/s × 8 B) "
                     f"× {PLATFORM_STREAM_EFF} platform STREAM efficiency = {est:.0f} GB/s")
    return None, "host memory bandwidth unknown (no measurement, no channels/speed in the spec)"


def theoretical_bandwidth(machine: Machine) -> float | None:
    """Peak host bandwidth in GB/s from the DIMM population, or the spec's own figure."""
    if machine.theoretical_bandwidth_gbs:
        return machine.theoretical_bandwidth_gbs
    if machine.channels and machine.speed_mts:
        return machine.channels * machine.speed_mts * 8 / 1000
    return None


def cpu_peak_flops(machine: Machine) -> tuple[float, str]:
    """CPU FP32 FLOP/s: measured GEMM when probed, else the CPU's rated peak, else an estimate."""
    if machine.cpu_gflops_fp32:
        return machine.cpu_gflops_fp32 * 1e9, f"CPU GEMM {machine.cpu_gflops_fp32:.0f} GFLOP/s measured (fp32)"
    threads = cpu_threads(machine)
    rating = cpu_rating_for(machine.cpu_model)
    if rating:
        peak = threads * rating.base_ghz * 1e9 * rating.flops_per_cycle
        return peak, (f"CPU compute not measured: {threads} cores × {rating.base_ghz} GHz × "
                      f"{rating.flops_per_cycle:.0f} FLOP/cycle = {peak / 1e12:.1f} TFLOP/s rated peak")
    fpc = next((v for k, v in FLOPS_PER_CYCLE.items() if k in machine.cpu_flags), DEFAULT_FLOPS_PER_CYCLE)
    peak = threads * ASSUMED_CLOCK_GHZ * 1e9 * fpc
    return peak, (f"CPU compute not measured and CPU not in the catalog: {threads} cores × {ASSUMED_CLOCK_GHZ} GHz "
                  f"× {fpc:.0f} FLOP/cycle = {peak / 1e12:.1f} TFLOP/s assumed")


def gpu_bandwidth(gpu: GpuSpec, machine: Machine) -> float | None:
    """A GPU's memory bandwidth in GB/s: measured, else rated; a unified-memory GPU without its
    own figure streams at the host memory's theoretical rate."""
    if gpu.measured_bandwidth_gbs:
        return gpu.measured_bandwidth_gbs
    if gpu.bandwidth_gbs:
        return gpu.bandwidth_gbs
    return theoretical_bandwidth(machine) if gpu.unified_memory else None


def _devices(machine: Machine, eng: EngineProfile, placement: str, notes: list[str]) -> _Devices:
    stream, note = host_stream_bandwidth(machine)
    notes.append(note)
    sockets = max(1, machine.sockets)
    per_socket = (stream or 0.0) / sockets
    host_bw = per_socket * max(0.05, 1 + eng.numa_gain * (sockets - 1)) * eng.cpu_bw_frac * GB
    if sockets > 1 and placement in ("cpu", "hybrid"):
        notes.append(f"{sockets} sockets: {eng.name} gains {eng.numa_gain:+.2f}× of a socket's bandwidth "
                     f"per extra socket (NUMA behaviour of the engine profile)")
    flops, fnote = cpu_peak_flops(machine)
    ratio = int8_dot_ratio(machine)
    if placement in ("cpu", "hybrid"):
        notes.append(fnote)
        notes.append(f"CPU decode: integer-quantised weights (GGUF blocks, INT4/INT8) multiplied at the int8 dot-product "
                     f"rate, {ratio:g}x the FP32 rate "
                     f"({'VNNI/sdot' if ratio >= 4 else 'no VNNI/sdot'}); attention over the cache at the engine's "
                     f"GEMM share")
    host_cap = (machine.capacity_gb or 0.0) * GB
    gpus = list(machine.gpus)
    gpu_bw = gpu_flops = gpu_cap = gpu_attn = 0.0
    floor_scale = 1.0
    tp = 1
    unified = any(g.unified_memory for g in gpus)
    if gpus:
        g = gpus[0]
        bw = gpu_bandwidth(g, machine)
        n = sum(x.count for x in gpus)
        streams_at_once = n if (eng.multi_gpu == "tensor" and placement != "hybrid") else 1
        tp = streams_at_once if placement == "gpu" else 1
        gpu_bw = (bw or 0.0) * streams_at_once * eng.gpu_bw_frac * GB
        gpu_flops = (g.bf16_tflops or 0.0) * 1e12 * streams_at_once * eng.gpu_flops_frac
        gpu_attn = (g.bf16_tflops or 0.0) * 1e12 * streams_at_once * DECODE_ATTN_FRAC
        floor_scale = gpu_floor_scale(g.bf16_tflops)
        if placement != "cpu":
            notes.append(f"GPU per-layer floors x{floor_scale:.2f} for a {g.bf16_tflops or 0:g}-TFLOPS GPU (they shrink "
                         f"with the square root of its rate; engine profiles give them for {FLOOR_REF_TFLOPS:g}); "
                         f"decode attention at {DECODE_ATTN_FRAC} of its rated FLOP/s (FlashMLA)")
        gpu_cap = host_cap if unified else sum(x.count * x.memory_gb for x in gpus) * GB
        if n > 1 and placement in ("gpu", "multi-node"):
            notes.append(f"{n} GPUs, {'tensor/expert parallel (stream at once)' if streams_at_once > 1 else 'layer split (one GPU streams at a time)'}")
        if tp > 1 and eng.tp_layer_us:
            notes.append(f"tensor parallel over {tp} GPUs: {tp_floor_us(eng, tp):.0f} µs per layer of collectives and "
                         f"small kernels ({eng.name} profile; from a published 8-GPU batch-1 figure)")
        if unified:
            notes.append(f"{g.model} shares host memory ({bw or 0:.0f} GB/s, {host_cap / GB:.0f} GB)")
    return _Devices(host_bw, flops * eng.cpu_flops_frac, gpu_bw, gpu_flops, host_cap, gpu_cap, unified,
                    cpu_threads(machine), flops * eng.cpu_gemm_frac, tensor_parallel=tp,
                    host_int8_dot=ratio, gpu_attn_flops=gpu_attn, floor_scale=floor_scale)


def gpu_floor_scale(bf16_tflops: float | None) -> float:
    """GPU per-layer floors of a GPU of this rate relative to a FLOOR_REF_TFLOPS one (1 if unknown)."""
    if not bf16_tflops or bf16_tflops <= 0:
        return 1.0
    return (FLOOR_REF_TFLOPS / bf16_tflops) ** FLOOR_EXPONENT


# CPU flags that give one-instruction int8 dot products (harness.cpu_catalog, the note above CpuRating)
_INT8_DOT_FLAGS = ("avx512_vnni", "avx512vnni", "avx_vnni", "avxvnni", "asimddp")


def int8_dot_ratio(machine: Machine) -> float:
    """int8 dot-product ops per FP32 FLOP: the catalog's figure for the CPU, else from its flags."""
    rating = cpu_rating_for(machine.cpu_model)
    if rating:
        return rating.int8_dot
    return 4.0 if any(f in machine.cpu_flags for f in _INT8_DOT_FLAGS) else 2.0


def integer_weights(quant: Any) -> bool:
    """Whether the CPU multiplies these expert weights in int8 (GGUF block formats, INT4/INT8) rather
    than in floating point (BF16/FP16, FP8 converted to float)."""
    if getattr(quant, "expert_recipe", None) in ("bf16", "fp16", "fp8"):
        return False
    # an average size ("<N>bpw") above 8-bit blocks is a 16-bit file, not an integer one
    return quant.bits_per_weight("routed_experts") <= 9.0


# The tensor-parallel floor (engine profiles' tp_layer_us) is derived on 8 GPUs (vLLM, DeepSeek-R1 on
# 8x H100: harness/engines.py) and scales with the steps of a ring all-reduce, tp - 1. Checked on a
# published pair at TP 2 and 4 (vLLM 0.5.3, Llama-3.1-70B AWQ on 3090 Ti, 1 client: 30 and 46 tok/s,
# vllm-project/vllm issue #6955; held-out rows ho_4x3090ti_llama70b_awq_tp*): the scaled floor gives
# both within 10% (x1.02 / x0.93), an unscaled one x0.70 / x0.65 (the scaling's form was chosen with these two
# rows in view: they check it, they did not fit it).
TP_REF = 8


def tp_floor_us(eng: EngineProfile, tp: int) -> float:
    """µs per layer that tensor parallelism over ``tp`` GPUs adds."""
    return eng.tp_layer_us * (tp - 1) / (TP_REF - 1) if tp > 1 else 0.0


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
        dev = _devices(sub, eng, "gpu", [])
        if not _fit(memory_breakdown(sc, "gpu", dev.unified), dev, "gpu")[0]:
            continue
        step = _decode_step(sc, "gpu", dev, eng)[0]
        if step < best_t:
            best, best_t = tp, step
    return best


def cpu_threads(machine: Machine) -> int:
    """Threads inference engines use: one per physical core (llama.cpp's and KTransformers' default)."""
    if machine.cores_per_socket:
        return machine.cores_per_socket * max(1, machine.sockets)
    return machine.threads or 16


def resolve_placement(machine: Machine, requested: str) -> str:
    if requested not in PLACEMENTS:
        raise HarnessError(f"unknown placement {requested!r} — use one of: {', '.join(PLACEMENTS)}")
    if requested in ("gpu", "hybrid") and not machine.gpus:
        raise HarnessError(f"placement {requested!r} needs a GPU, and this machine has none — use --placement cpu")
    if requested == "multi-node" and (machine.nodes < 2 or not machine.gpus):
        raise HarnessError("placement 'multi-node' needs a [cluster] with nodes >= 2 and GPUs in the machine spec")
    return requested


def unique_experts(n_experts: int, k: int, batch: int) -> float:
    """Routed experts one MoE layer touches for a batch, uniform routing: E·(1 − (1 − k/E)^B)."""
    if n_experts <= 0 or k <= 0:
        return 0.0
    return n_experts * (1 - (1 - k / n_experts) ** max(1, batch))


GPU_SIDE_CLASSES = ("embedding", "attention", "dense_mlp", "shared_experts", "router", "lm_head", "norms")


def _device_of(cls: str, placement: str, unified: bool) -> str:
    """Which device streams a tensor class. A unified-memory GPU is still the GPU (its kernels,
    its bandwidth); only the capacity check counts its bytes against host memory."""
    if placement == "cpu":
        return "host"
    if placement == "hybrid":
        return "host" if cls == "routed_experts" else "gpu"
    return "gpu"


def _step_bytes(sc: Scenario, placement: str, unified: bool) -> dict[str, dict[str, float]]:
    """Bytes read per decode step by device and class, at batch B."""
    read = sc.quant.read_bytes(sc.model)
    m = sc.model
    scale = unique_experts(m.n_routed_experts, m.experts_per_token, sc.batch) / max(1, m.experts_per_token)
    out: dict[str, dict[str, float]] = {"host": {}, "gpu": {}}
    for cls, b in read.items():
        if cls == "mtp" or not b:
            continue
        b = b * scale if cls == "routed_experts" else b
        out[_device_of(cls, placement, unified)][cls] = b
    kv_dev = _device_of("attention", placement, unified)
    out[kv_dev]["kv_cache"] = m.kv_read_bytes(sc.context, sc.kv_dtype_bytes) * sc.batch
    return out


def _step_flops(sc: Scenario, placement: str, unified: bool) -> tuple[dict[str, float], dict[str, float]]:
    """FLOPs per decode step by device: (weight mat-vecs, attention over the cache)."""
    m = sc.model
    flops = {"host": 0.0, "gpu": 0.0}
    attn = {"host": 0.0, "gpu": 0.0}
    read_params = getattr(m, "read_params", m.active_params)
    for cls, p in read_params.items():
        if cls in ("mtp", "embedding"):
            continue
        flops[_device_of(cls, placement, unified)] += 2.0 * p * sc.batch
    attn[_device_of("attention", placement, unified)] += m.decode_attention_flops_per_token(sc.context) * sc.batch
    return flops, attn


def memory_breakdown(sc: Scenario, placement: str, unified: bool) -> dict[str, dict[str, float]]:
    """Resident bytes by device and tensor class (weights + KV cache for context × batch)."""
    out: dict[str, dict[str, float]] = {"host": {}, "gpu": {}}
    for cls, b in sc.quant.weight_bytes(sc.model).items():
        if cls == "mtp" and not sc.mtp:
            continue
        if b:
            out[_device_of(cls, placement, unified)][cls] = b
    out[_device_of("attention", placement, unified)]["kv_cache"] = (
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


def _fit_ep(mem: dict[str, dict[str, float]], machine: Machine) -> tuple[bool, dict[str, Any]]:
    need = sum(mem["gpu (each)"].values())
    usable = (machine.gpus[0].memory_gb if machine.gpus else 0.0) * GB * (1 - GPU_RESERVE_FRAC)
    return need <= usable, {"gpu_needed_bytes_each": need, "gpu_usable_bytes_each": usable,
                            "gpus": machine.gpu_count * machine.nodes}


def _fit(mem: dict[str, dict[str, float]], dev: _Devices, placement: str) -> tuple[bool, dict[str, Any]]:
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


def _decode_step(sc: Scenario, placement: str, dev: _Devices, eng: EngineProfile) -> tuple[float, dict[str, float], dict[str, float]]:
    """Seconds per decode step and where they go."""
    by = _step_bytes(sc, placement, dev.unified)
    fl, attn = _step_flops(sc, placement, dev.unified)
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


# DeepSeek's DeepEP dispatches tokens to experts in FP8 (1 byte/element) and combines in BF16
# (2 bytes/element): DeepEP README, "normal kernels" section.
DISPATCH_BYTES, COMBINE_BYTES = 1.0, 2.0


def _decode_step_ep(sc: Scenario, machine: Machine, dev: _Devices, eng: EngineProfile,
                    notes: list[str]) -> tuple[float, dict[str, float], dict[str, float]]:
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
    notes.append(f"multi-node: experts spread over {n} GPUs ({machine.nodes} nodes × {gpus_per_node}), attention "
                 f"replicated; all-to-all {comm_bytes / 1e6:.1f} MB per node per step over "
                 f"{machine.interconnect_gbs or 0:g} GB/s, at least {all_to_all_latency_s(n) * 1e6:.0f} µs "
                 f"dispatch + combine latency per MoE layer (DeepEP low-latency kernels at EP{n}), overlapped "
                 f"with compute (dual micro-batch)")
    return sum(times.values()), times, {"gpu": gpu_bytes, "interconnect": comm_bytes}


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


def engine_overhead(model: Any, placement: str, dev: _Devices, eng: EngineProfile) -> float:
    """Fixed seconds per decode step: per-layer work that bandwidth does not explain."""
    cpu_layer = (eng.cpu_layer_us + eng.cpu_thread_us * dev.cpu_threads) * 1e-6
    if placement == "cpu":
        return model.n_layers * cpu_layer + model.n_moe_layers * eng.moe_layer_us * 1e-6
    gpu_layer = eng.gpu_layer_us * dev.floor_scale * 1e-6
    moe = model.n_moe_layers * eng.moe_layer_us * dev.floor_scale * 1e-6
    if placement == "hybrid":
        return model.n_layers * gpu_layer + model.n_moe_layers * cpu_layer + moe
    # collectives over NVLink do not get faster with a GPU's FLOP/s: tp_layer_us is not scaled by it,
    # but by the steps of a ring all-reduce, tp - 1 (tp_layer_us is for TP_REF GPUs)
    tp_sync = model.n_layers * tp_floor_us(eng, dev.tensor_parallel) * 1e-6
    return model.n_layers * gpu_layer + moe + tp_sync


def _prefill_rate(sc: Scenario, placement: str, dev: _Devices) -> float | None:
    """Prompt tokens/s: compute bound at the effective GEMM FLOP/s of the device doing the matmuls."""
    m = sc.model
    per_token = 2.0 * sum(v for k, v in m.read_params.items() if k not in ("mtp", "embedding"))
    per_token += m.attention_flops_per_token(max(1, sc.prefill_depth + sc.prompt // 2))
    if placement == "cpu" or (placement == "hybrid" and not dev.gpu_flops):
        rate = dev.host_gemm_flops
    elif placement == "hybrid":
        # experts on the CPU (KTransformers runs expert GEMMs with AMX/AVX-512), the rest on GPU
        routed = 2.0 * m.read_params.get("routed_experts", 0)
        if not dev.host_gemm_flops:
            return None
        t = routed / dev.host_gemm_flops + (per_token - routed) / dev.gpu_flops
        return 1.0 / t if t > 0 else None
    else:
        rate = dev.gpu_flops
    return rate / per_token if rate and per_token else None


def predict(machine: Machine, sc: Scenario) -> Prediction:
    """Predict decode and prefill for one scenario on one machine."""
    if sc.batch < 1:
        raise HarnessError(f"batch must be >= 1, got {sc.batch} — pass --batch 1 or more")
    if sc.context < 0 or sc.prompt < 0 or sc.prefill_depth < 0:
        raise HarnessError("context and prompt lengths must be >= 0 — pass e.g. --context 4096")
    if sc.backend not in BACKENDS:
        raise HarnessError(f"unknown backend {sc.backend!r} — use one of: {', '.join(BACKENDS)}")
    requested = sc.placement
    placement = auto_placement(machine, sc) if requested == "auto" else resolve_placement(machine, requested)
    eng_name = auto_engine(placement, machine.gpu_count, machine.nodes) if sc.engine == "auto" else sc.engine
    eng = get_engine(eng_name)
    notes: list[str] = []
    if requested == "auto":
        notes.append(f"placement auto → {placement} (the fastest that fits)")
        placement_note = len(notes) - 1
    if sc.engine == "auto":
        notes.append(f"engine auto → {eng.name} (usual engine for {placement} placement)")
    notes.append(f"engine profile {eng.name}: {eng.note}")
    notes += [f"machine: {n}" for n in machine.notes]
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
    dev = _devices(machine, eng, placement, notes)
    if placement == "multi-node":
        mem = memory_per_gpu_ep(sc, machine)
        fits, cap = _fit_ep(mem, machine)
    else:
        mem = memory_breakdown(sc, placement, dev.unified)
        fits, cap = _fit(mem, dev, placement)
        cap.update(_capacity_limits(sc, placement, dev, mem))
    if placement == "multi-node":
        step, times, by = _decode_step_ep(sc, machine, dev, eng, notes)
    else:
        step, times, by = _decode_step(sc, placement, dev, eng)
    per_user = 1.0 / step if step and math.isfinite(step) else None
    if per_user and sc.mtp and eng.mtp and sc.model.params.get("mtp"):
        per_user *= 1 + MTP_ACCEPTANCE
        notes.append(f"DeepSeek MTP: ×{1 + MTP_ACCEPTANCE:.2f} (acceptance {MTP_ACCEPTANCE}, DeepSeek-V3 report §5.4.3)")
    prefill = _prefill_rate(sc, placement, dev)
    ttft = (sc.prompt / prefill + (1 / per_user if per_user else 0.0)) if prefill else None
    notes += _workload_notes(sc)
    if placement == "gpu" and gpu_kernel_penalty(sc, eng) < 1.0:  # the only placement with experts on a GPU it slows
        notes.append(f"{sc.backend} backend without a BF16 expert mat-vec path: routed experts stream at "
                     f"{gpu_kernel_penalty(sc, eng):.2f} of the GPU rate ({eng.name} profile)")
    notes.append(f"fit: host memory keeps max({HOST_RESERVE_MIN_GB:g} GB, {HOST_RESERVE_FRAC:.0%}) for the OS and "
                 f"engine buffers; each GPU keeps {GPU_RESERVE_FRAC:.0%} (vLLM's gpu_memory_utilization 0.9)")
    if requested == "auto" and not fits:  # auto falls back to cpu when no placement fits
        notes[placement_note] = f"placement auto → {placement}: no placement fits this machine, so the answer says why"
    bottleneck = "does not fit" if not fits else max(times, key=times.get)
    return Prediction(
        inputs=sc.inputs() | {"placement_resolved": placement, "engine_resolved": eng.name},
        engine=eng.name, placement=placement,
        decode_tokens_per_s=per_user, aggregate_tokens_per_s=(per_user * sc.batch if per_user else None),
        prefill_tokens_per_s=prefill, ttft_s=ttft, fits=fits, bottleneck=bottleneck,
        time_per_token_s=times, bytes_per_token=by, memory=mem, capacity=cap, assumptions=notes,
    )


def _capacity_limits(sc: Scenario, placement: str, dev: _Devices, mem: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Largest context (at this batch) and largest batch (at this context) that fit."""
    kv_dev = "host" if dev.unified else _device_of("attention", placement, dev.unified)
    weights = sum(v for d in mem.values() for k, v in d.items() if k != "kv_cache") if dev.unified else \
        sum(v for k, v in mem[kv_dev].items() if k != "kv_cache")
    if kv_dev == "host" or dev.unified:
        usable = dev.host_capacity - max(HOST_RESERVE_MIN_GB * GB, HOST_RESERVE_FRAC * dev.host_capacity)
    else:
        usable = dev.gpu_capacity * (1 - GPU_RESERVE_FRAC)
    per_token = sc.model.kv_bytes_per_token(sc.kv_dtype_bytes)
    room = usable - weights
    if room <= 0:
        return {"max_context": 0, "max_batch": 0, "kv_bytes_per_token": per_token}
    if per_token <= 0:  # every layer linear attention: no cache grows with the context
        state = sc.model.linear_state_bytes
        return {"max_context": None, "max_batch": int(room / state) if state else None, "kv_bytes_per_token": 0.0}
    # linear-attention state (Qwen3-Next) is fixed per sequence: only the rest grows with the context
    max_ctx = int(max(0.0, room - sc.model.linear_state_bytes * sc.batch) / (per_token * sc.batch))
    kv_seq = sc.model.kv_cache_bytes(sc.context, sc.kv_dtype_bytes)
    max_batch = int(room / kv_seq) if kv_seq > 0 else None
    return {"max_context": max_ctx, "max_batch": max_batch, "kv_bytes_per_token": per_token}


def _workload_notes(sc: Scenario) -> list[str]:
    m = sc.model
    notes = [f"model {m.id}: {m.total_params / 1e9:.1f}B total, {m.active_total / 1e9:.1f}B activated per token",
             f"quant {sc.quant.name}; KV cache {sc.kv_dtype_bytes:g} bytes/element, context {sc.context} tokens"]
    if m.n_routed_experts:
        notes.append(f"routing uniform: batch {sc.batch} touches "
                     f"{unique_experts(m.n_routed_experts, m.experts_per_token, sc.batch):.1f} of "
                     f"{m.n_routed_experts} experts per MoE layer")
    return notes


def auto_placement(machine: Machine, sc: Scenario) -> str:
    """The fastest placement that fits (cpu when nothing fits, so the answer says why)."""
    options = ["cpu"]
    if machine.gpus:
        options += ["gpu", "hybrid"] if sc.model.n_routed_experts else ["gpu"]
    if machine.nodes > 1 and machine.gpus:
        options.append("multi-node")
    best, best_rate = "cpu", -1.0
    for p in options:
        pred = predict(machine, Scenario(**{**sc.__dict__, "placement": p}))
        rate = pred.decode_tokens_per_s or 0.0
        if pred.fits and rate > best_rate:
            best, best_rate = p, rate
    return best
