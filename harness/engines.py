"""Engine profiles: what fraction of the machine an inference engine really reaches.

Each number is fitted on rows of ``harness/data/calibration/measurements.csv`` (published,
measured tokens/s) by ``bench/fit_engines.py``; the rows used are named beside each profile.
A profile is a handful of constants per engine, never one constant per row.

Terms (see ``harness.predict``):
- ``cpu_bw_frac``: fraction of the host's effective STREAM bandwidth of one NUMA node that the
  engine's CPU kernels stream weights at.
- ``numa_gain``: extra bandwidth each further socket adds, as a fraction of one socket's
  (1.0 = perfect scaling, 0 = none, negative = cross-socket traffic makes it slower).
- ``gpu_bw_frac``: fraction of a GPU's (or unified memory's) rated bandwidth its kernels reach.
- ``cpu_layer_us`` + ``cpu_thread_us`` × threads: time per layer per token on the CPU side
  (thread barriers cost more the more threads join them — a 128-core Xeon loses ~1 ms per layer,
  a 16-core desktop ~0.05 ms).
- ``gpu_layer_us``: fixed time per layer on the GPU side (kernel launches).
- ``moe_layer_us``: extra time per MoE layer (routing, top-k, gather/scatter of experts; the
  CPU↔GPU hand-off in a hybrid). Dense models do not pay it: they reach 0.8+ of bandwidth where
  MoE models reach 0.3–0.7 (calibration README).
- ``cpu_flops_frac`` / ``gpu_flops_frac``: fraction of peak FLOP/s reached in GEMM (prefill,
  large batches).
- ``multi_gpu``: "layer" (layers split across GPUs, run one after another) or "tensor"
  (tensor/expert parallel: the GPUs stream at the same time).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import HarnessError


@dataclass(frozen=True)
class EngineProfile:
    name: str
    cpu_bw_frac: float
    numa_gain: float
    gpu_bw_frac: float
    cpu_layer_us: float
    cpu_thread_us: float
    gpu_layer_us: float
    moe_layer_us: float
    cpu_flops_frac: float
    gpu_flops_frac: float
    multi_gpu: str
    mtp: bool  # uses DeepSeek multi-token prediction when the model has it
    fitted_on: tuple[str, ...]
    note: str


# Fitted by bench/fit_engines.py; see each profile's ``fitted_on`` for the calibration rows.
ENGINES: dict[str, EngineProfile] = {}


def _register(p: EngineProfile) -> None:
    ENGINES[p.name] = p


_register(EngineProfile(
    name="ideal", cpu_bw_frac=1.0, numa_gain=1.0, gpu_bw_frac=1.0, cpu_layer_us=0.0, cpu_thread_us=0.0,
    gpu_layer_us=0.0, moe_layer_us=0.0, cpu_flops_frac=1.0, gpu_flops_frac=1.0, multi_gpu="tensor", mtp=False,
    fitted_on=(), note="upper bound: every byte at full measured/rated bandwidth, no overhead",
))


# Starting values, replaced by bench/fit_engines.py's fit (see fitted_on).
_register(EngineProfile(
    name="llama.cpp", cpu_bw_frac=0.75, numa_gain=-0.3, gpu_bw_frac=0.8, cpu_layer_us=300.0, cpu_thread_us=5.0,
    gpu_layer_us=150.0, moe_layer_us=100.0, cpu_flops_frac=0.3, gpu_flops_frac=0.5, multi_gpu="layer", mtp=False,
    fitted_on=(), note="llama.cpp: mmap'd weights, no NUMA-aware placement, layer split over GPUs",
))
_register(EngineProfile(
    name="ik_llama.cpp", cpu_bw_frac=0.8, numa_gain=-0.2, gpu_bw_frac=0.8, cpu_layer_us=250.0, cpu_thread_us=5.0,
    gpu_layer_us=150.0, moe_layer_us=100.0, cpu_flops_frac=0.4, gpu_flops_frac=0.5, multi_gpu="layer", mtp=False,
    fitted_on=(), note="ik_llama.cpp: fused MoE (-fmoe), MLA kernels, run-time repacking",
))
_register(EngineProfile(
    name="ktransformers", cpu_bw_frac=0.7, numa_gain=0.4, gpu_bw_frac=0.7, cpu_layer_us=150.0, cpu_thread_us=5.0,
    gpu_layer_us=100.0, moe_layer_us=100.0, cpu_flops_frac=0.4, gpu_flops_frac=0.5, multi_gpu="layer", mtp=False,
    fitted_on=(), note="KTransformers: routed experts on CPU (weights duplicated per NUMA node), rest on GPU",
))
_register(EngineProfile(
    name="vllm", cpu_bw_frac=0.5, numa_gain=0.0, gpu_bw_frac=0.75, cpu_layer_us=500.0, cpu_thread_us=5.0,
    gpu_layer_us=120.0, moe_layer_us=100.0, cpu_flops_frac=0.3, gpu_flops_frac=0.6, multi_gpu="tensor", mtp=True,
    fitted_on=(), note="vLLM: CUDA graphs, tensor/expert parallel over GPUs",
))
_register(EngineProfile(
    name="sglang", cpu_bw_frac=0.5, numa_gain=0.0, gpu_bw_frac=0.75, cpu_layer_us=500.0, cpu_thread_us=5.0,
    gpu_layer_us=120.0, moe_layer_us=100.0, cpu_flops_frac=0.3, gpu_flops_frac=0.6, multi_gpu="tensor", mtp=True,
    fitted_on=(), note="SGLang: expert parallel (DeepEP), MTP, tensor parallel attention",
))


def engine_names() -> list[str]:
    return ["auto", *ENGINES]


_ALIASES = {"llama_cpp": "llama.cpp", "llamacpp": "llama.cpp", "ik_llama": "ik_llama.cpp",
            "ik-llama.cpp": "ik_llama.cpp", "kt": "ktransformers"}


def get_engine(name: str) -> EngineProfile:
    """The profile for an engine name (``auto`` is resolved by ``predict`` from the placement)."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in ENGINES:
        raise HarnessError(f"unknown engine {name!r} — use one of: {', '.join(engine_names())}")
    return ENGINES[key]


def auto_engine(placement: str, gpu_count: int, nodes: int) -> str:
    """The engine a user would pick for a placement (documented in predictions' assumptions)."""
    if placement == "hybrid":
        return "ktransformers"
    if placement == "multi-node" or nodes > 1:
        return "sglang"
    if placement == "gpu" and gpu_count > 1:
        return "vllm"
    if placement == "cpu":
        return "ik_llama.cpp"
    return "llama.cpp"
