"""Effective rates of the devices a placement uses: host STREAM bandwidth per socket and NUMA
behaviour, CPU FLOP/s and int8 dot rate, GPU bandwidth and FLOP/s, capacities."""

from __future__ import annotations

import math  # noqa: F401
from dataclasses import dataclass

from harness.hardware.cpu_catalog import rating_for as cpu_rating_for
from harness.hardware.facts import (ASSUMED_CLOCK_GHZ, DEFAULT_FLOPS_PER_CYCLE, FLOPS_PER_CYCLE, INT8_DOT_FLAGS,
                                    PLATFORM_STREAM_EFF)
from harness.hardware.machine import GPU_GB, GpuSpec, Machine
from harness.hardware.gpu_sheet import is_amd
from harness.perf.engines import EngineProfile
from harness.perf.overheads import FLOOR_REF_TFLOPS, gpu_floor_scale, tp_floor_us


GB = 1e9


# Decode attention over a long cache runs in flash-decoding kernels, not the GEMMs of prefill: FlashMLA
# (deepseek-ai/FlashMLA README) reaches 580 TFLOPS in its compute-bound configuration on an H800 SXM5
# (989 dense BF16): 0.59 of the rated rate, used for every engine's GPU decode attention.
DECODE_ATTN_FRAC = 0.59


@dataclass(frozen=True)
class Devices:
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
    host_int8_dot: float = 2.0  # int8 dot-product ops per FP32 FLOP of the CPU (harness.hardware.cpu_catalog, the note above CpuRating)
    gpu_attn_flops: float = 0.0  # FLOP/s of decode attention on the GPU side (DECODE_ATTN_FRAC of rated)
    floor_scale: float = 1.0  # GPU per-layer floors relative to a FLOOR_REF_TFLOPS GPU
    rocm: bool = False  # the GPUs are AMD's: their floors are ROCm's (EngineProfile.rocm_floor_scale)
    notes: tuple[str, ...] = ()  # what the rates rest on, for the prediction's assumptions


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


def devices_for(machine: Machine, eng: EngineProfile, placement: str) -> Devices:
    notes: list[str] = []
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
    rocm = False
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
        gpu_cap = host_cap if unified else sum(x.count * x.memory_gb for x in gpus) * GPU_GB
        if n > 1 and placement in ("gpu", "multi-node"):
            notes.append(f"{n} GPUs, {'tensor/expert parallel (stream at once)' if streams_at_once > 1 else 'layer split (one GPU streams at a time)'}")
        if tp > 1 and eng.tp_layer_us:
            notes.append(f"tensor parallel over {tp} GPUs: {tp_floor_us(eng, tp):.0f} µs per layer of collectives and "
                         f"small kernels ({eng.name} profile; from a published 8-GPU batch-1 figure)")
        rocm = is_amd(g.model)
        if rocm and placement != "cpu" and eng.rocm_floor_scale != 1.0:
            notes.append(f"AMD GPU: {eng.name}'s per-step GPU floors x{eng.rocm_floor_scale:g} on ROCm (fitted on the "
                         f"published ROCm serving rows)")
        if unified:
            notes.append(f"{g.model} shares host memory ({bw or 0:.0f} GB/s, {host_cap / GB:.0f} GB)")
    return Devices(host_bw, flops * eng.cpu_flops_frac, gpu_bw, gpu_flops, host_cap, gpu_cap, unified,
                    cpu_threads(machine), flops * eng.cpu_gemm_frac, tensor_parallel=tp,
                    host_int8_dot=ratio, gpu_attn_flops=gpu_attn, floor_scale=floor_scale,
                    rocm=rocm, notes=tuple(notes))


def int8_dot_ratio(machine: Machine) -> float:
    """int8 dot-product ops per FP32 FLOP: the catalog's figure for the CPU, else from its flags."""
    rating = cpu_rating_for(machine.cpu_model)
    if rating:
        return rating.int8_dot
    return 4.0 if any(f in machine.cpu_flags for f in INT8_DOT_FLAGS) else 2.0


def cpu_threads(machine: Machine) -> int:
    """Threads inference engines use: one per physical core (llama.cpp's and KTransformers' default)."""
    if machine.cores_per_socket:
        return machine.cores_per_socket * max(1, machine.sockets)
    return machine.threads or 16
