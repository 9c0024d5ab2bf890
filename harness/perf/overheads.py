"""Fixed time per decode step that bandwidth and FLOP/s do not explain: per-layer engine floors
(which shrink on faster GPUs), the CPU thread-pool barrier, tensor-parallel collectives; on AMD GPUs,
ROCm's floors (the engine profile's rocm_floor_scale)."""

from __future__ import annotations

from typing import Any

from harness.perf.engines import EngineProfile


# GPU per-layer floors (engine profiles' gpu_layer_us / moe_layer_us) are for a GPU of
# FLOOR_REF_TFLOPS dense BF16 and shrink as the square root of the GPU's rate (tensor-parallel
# collectives, tp_layer_us, do not: they wait on the interconnect): small kernels finish
# sooner on faster GPUs. The exponent is read off the published rows, floor per layer after the bytes
# at the GPU's bandwidth: M2 Max ~255 µs (13.6 TFLOPS), M2 Ultra ~195 (27), Radeon 8060S ~90 (59),
# GB10 ~90 (125), RTX 4090 ~50 (165), RTX PRO 6000 ~50 (500, full-rate workstation BF16): log-log
# least-squares slope -0.49.
FLOOR_REF_TFLOPS = 100.0
FLOOR_EXPONENT = 0.5


def gpu_floor_scale(bf16_tflops: float | None) -> float:
    """GPU per-layer floors of a GPU of this rate relative to a FLOOR_REF_TFLOPS one (1 if unknown)."""
    if not bf16_tflops or bf16_tflops <= 0:
        return 1.0
    return (FLOOR_REF_TFLOPS / bf16_tflops) ** FLOOR_EXPONENT


# The tensor-parallel floor (engine profiles' tp_layer_us) is derived on 8 GPUs (vLLM, DeepSeek-R1 on
# 8x H100: harness.calibration.derive) and scales with the steps of a ring all-reduce, tp - 1 (its
# history, and the held-out rows that were in view when the form was chosen: CHANGES.md).
TP_REF = 8


def tp_floor_us(eng: EngineProfile, tp: int) -> float:
    """µs per layer that tensor parallelism over ``tp`` GPUs adds."""
    return eng.tp_layer_us * (tp - 1) / (TP_REF - 1) if tp > 1 else 0.0


def engine_overhead(model: Any, placement: str, dev: Any, eng: EngineProfile) -> float:
    """Fixed seconds per decode step: per-layer work that bandwidth does not explain."""
    cpu_layer = (eng.cpu_layer_us + eng.cpu_thread_us * dev.cpu_threads) * 1e-6
    if placement == "cpu":
        return model.n_layers * cpu_layer + model.n_moe_layers * eng.moe_layer_us * 1e-6
    rocm = eng.rocm_floor_scale if dev.rocm else 1.0
    gpu_layer = eng.gpu_layer_us * dev.floor_scale * rocm * 1e-6
    moe = model.n_moe_layers * eng.moe_layer_us * dev.floor_scale * rocm * 1e-6
    if placement == "hybrid":
        return model.n_layers * gpu_layer + model.n_moe_layers * cpu_layer + moe
    # collectives over NVLink do not get faster with a GPU's FLOP/s: tp_layer_us is not scaled by it,
    # but by the steps of a ring all-reduce, tp - 1 (tp_layer_us is for TP_REF GPUs)
    tp_sync = model.n_layers * tp_floor_us(eng, dev.tensor_parallel) * rocm * 1e-6
    return model.n_layers * gpu_layer + moe + tp_sync
