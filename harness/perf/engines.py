"""Engine profiles: what fraction of the machine an inference engine really reaches.

A profile is a handful of constants per engine, never one constant per row. Their values are not
typed here: the fitter (``harness.calibration.fit``) writes them, with the status of each field
(fitted, derived, placeholder) and its rows or source, into ``harness/data/engine_fit.json``, and
the application layer loads that file into an ``EngineSet`` that it passes to ``predict``.

Terms of the step-time model (``harness.perf``):
- ``cpu_bw_frac``: fraction of the host's effective STREAM bandwidth of one NUMA node that the
  engine's CPU kernels stream weights at.
- ``numa_gain``: extra bandwidth each further socket adds, as a fraction of one socket's
  (1.0 = perfect scaling, 0 = none, negative = cross-socket traffic makes it slower).
- ``gpu_bw_frac``: fraction of a GPU's (or unified memory's) rated bandwidth its kernels reach.
- ``cpu_layer_us`` + ``cpu_thread_us`` × threads: time per layer per token on the CPU side
  (thread barriers cost more the more threads join them).
- ``gpu_layer_us``: fixed time per layer on the GPU side (kernel launches), for a GPU of
  ``harness.perf.overheads.FLOOR_REF_TFLOPS``; it and ``moe_layer_us`` shrink on faster GPUs.
- ``moe_layer_us``: extra time per MoE layer (routing, top-k, gather/scatter of experts; the
  CPU↔GPU hand-off in a hybrid). Dense models do not pay it.
- ``cpu_flops_frac``: fraction of CPU peak FLOP/s the decode kernels (dequantise + GEMV) reach.
- ``cpu_gemm_frac`` / ``gpu_flops_frac``: fraction of peak FLOP/s reached in the GEMMs of prefill
  and of large decode batches on GPUs.
- ``vulkan_bf16_moe_frac``: share of the GPU streaming rate that BF16 routed-expert mat-vecs reach on
  the Vulkan backend of a device without the bf16 shader extension (1.0 = no penalty).
- ``tp_layer_us``: extra time per layer when one node's GPUs run the layer tensor/expert parallel
  (collectives after attention and MoE, kernels too small to fill a GPU), for ``TP_REF`` GPUs.
- ``multi_gpu``: "layer" (layers split across GPUs, run one after another) or "tensor"
  (tensor/expert parallel: the GPUs stream at the same time).
- ``linear_state_bytes``: bytes per element of a linear-attention state (Qwen3-Next's Gated
  DeltaNet): vLLM/SGLang keep it in the model dtype (BF16), ggml's recurrent cache is F32.
- ``rocm_floor_scale``: the GPU-side per-step floors on AMD GPUs (ROCm) relative to CUDA's; the
  serving fit sets it for vLLM and SGLang (every other engine keeps 1).
- ``overlaps_shared_experts``: in a hybrid, the GPU computes the shared experts while the CPU
  computes the routed ones (KTransformers submits the routed experts asynchronously:
  ``KDeepseekV3MoE.forward``, ``submit_for_one_decode`` in ktransformers/operators/experts.py);
  ggml's scheduler runs them in turn.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from harness.errors import HarnessError

# The numeric fields of a profile: what the fit file gives a value, a status and a source for.
NUMERIC_FIELDS = ("cpu_bw_frac", "numa_gain", "gpu_bw_frac", "cpu_layer_us", "cpu_thread_us", "gpu_layer_us",
                  "moe_layer_us", "cpu_flops_frac", "gpu_flops_frac", "cpu_gemm_frac", "vulkan_bf16_moe_frac",
                  "tp_layer_us")


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
    cpu_gemm_frac: float = 0.3
    vulkan_bf16_moe_frac: float = 1.0
    tp_layer_us: float = 0.0
    linear_state_bytes: float = 2.0
    overlaps_shared_experts: bool = False
    # the GPU-side per-step floors (per-layer, MoE and tensor-parallel) on AMD GPUs (ROCm) relative to
    # CUDA's: set for vLLM and SGLang by the serving fit (harness.calibration.fitfile.default_engines)
    rocm_floor_scale: float = 1.0
    # fields whose value no calibration row binds (a placeholder); predictions that lean on one say so
    placeholders: tuple[str, ...] = ()
    apple_only: bool = False  # runs on Apple silicon GPUs only (MLX)


_ALIASES = {"llama_cpp": "llama.cpp", "llamacpp": "llama.cpp", "ik_llama": "ik_llama.cpp",
            "ik-llama.cpp": "ik_llama.cpp", "kt": "ktransformers", "hy90": "xingyun",
            "trtllm": "tensorrt-llm", "trt-llm": "tensorrt-llm", "tensorrt_llm": "tensorrt-llm",
            "mlx-lm": "mlx", "mlx_lm": "mlx"}


@dataclass(frozen=True)
class EngineSet(Mapping[str, EngineProfile]):
    """The engine profiles one prediction may use, by name (immutable: a fitter trying candidate
    values builds a new set with ``replace`` instead of rewriting a registry)."""

    profiles: Mapping[str, EngineProfile] = field(default_factory=dict)

    def __getitem__(self, name: str) -> EngineProfile:
        return self.profiles[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.profiles)

    def __len__(self) -> int:
        return len(self.profiles)

    def __hash__(self) -> int:
        return hash(tuple(self.profiles.items()))

    def names(self) -> list[str]:
        """Every name an ``--engine`` option accepts, ``auto`` first."""
        return ["auto", *self.profiles]

    def resolve(self, name: str) -> EngineProfile:
        """The profile for an engine name or alias (``auto`` is resolved by ``predict``)."""
        key = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if key not in self.profiles:
            raise HarnessError(f"unknown engine {name!r} — use one of: {', '.join(self.names())}")
        return self.profiles[key]

    def replace(self, *profiles: EngineProfile) -> EngineSet:
        """A new set with these profiles in place of the ones of the same name."""
        return EngineSet({**self.profiles, **{p.name: p for p in profiles}})


def check_engine_on(eng: EngineProfile, gpu_models: list[str], placement: str) -> None:
    """Refuse an engine where it does not run: MLX only on an Apple GPU, the model on that GPU."""
    if not eng.apple_only:
        return
    if not any("apple" in m.lower() for m in gpu_models):
        raise HarnessError(f"engine {eng.name} runs on Apple silicon GPUs only and this machine has none — pick "
                           "another --engine (llama.cpp, vllm, sglang ...)")
    if placement != "gpu":
        raise HarnessError(f"engine {eng.name} runs the whole model on one Mac's GPU: use --placement gpu or auto "
                           f"(not {placement})")


def auto_engine(placement: str, gpu_count: int, nodes: int) -> str:
    """The engine a user would pick for a placement (documented in predictions' assumptions)."""
    if placement == "hybrid":
        return "ktransformers"
    if placement == "multi-node" or (nodes > 1 and placement == "gpu"):
        return "sglang"
    if placement == "gpu" and gpu_count > 1:
        return "vllm"
    if placement == "cpu":
        return "ik_llama.cpp"
    return "llama.cpp"
