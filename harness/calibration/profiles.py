"""What each engine profile is made of: its fixed traits and note, and for every numeric field
whether the fitter fits it (on which rows, within which bounds), derives it from a published
figure, or holds a placeholder no row binds. The fitter reads these tables and writes the values
into ``harness/data/engine_fit.json``; nothing here is a fitted number.
"""

from __future__ import annotations

from dataclasses import dataclass

GGML = ("llama.cpp", "ik_llama.cpp")
GPU_ENGINES = ("llama.cpp", "ik_llama.cpp", "vllm", "sglang", "tensorrt-llm", "ktransformers", "xingyun")
KT = ("ktransformers", "xingyun")
# the datacenter serving engines: CUDA-graph decode over tensor/expert-parallel GPUs with the same
# kernel families (FlashMLA/FlashInfer attention, DeepGEMM/CUTLASS grouped GEMMs); no batch-1
# calibration row runs SGLang or TensorRT-LLM, so they share vLLM's fitted decode terms
VLLM = ("vllm", "sglang", "tensorrt-llm")


@dataclass(frozen=True)
class Param:
    """A fitted constant shared by ``engines`` (engines that share kernels share it)."""

    engines: tuple[str, ...]
    field: str
    lower: float
    upper: float
    # significant figures kept (the rows pin no more); per-layer floors are kept to 0.1 µs
    digits: int = 2
    step_us: float | None = None
    why: str = ""

    def round(self, value: float) -> float:
        if self.step_us is not None:
            return round(round(value / self.step_us) * self.step_us, 6)
        return float(f"{value:.{self.digits}g}")


# Decode constants: Huber loss on log(predicted / measured) over every usable calibration row.
DECODE_PARAMS: dict[str, Param] = {
    "ggml.gpu_bw_frac": Param(GGML, "gpu_bw_frac", 0.3, 1.0),
    "gpu_runtime.gpu_layer_us": Param(GPU_ENGINES, "gpu_layer_us", 0.0, 2000.0, step_us=0.1, why=(
        "GPU runtime floors (kernel launches, MoE routing kernels) are shared by the GPU engines: vLLM's three "
        "DGX Spark rows alone would only restate themselves; KTransformers launches its GPU work through the same "
        "CUDA runtime and its own rows, CPU-bound, cannot pin a floor")),
    "gpu_runtime.moe_layer_us": Param(GPU_ENGINES, "moe_layer_us", 0.0, 3000.0, step_us=0.1),
    "ggml.cpu_layer_us": Param(GGML, "cpu_layer_us", 0.0, 3000.0, step_us=0.1),
    "ggml.cpu_thread_us": Param(GGML, "cpu_thread_us", 0.0, 50.0, step_us=0.01),
    "ggml.numa_gain": Param(GGML, "numa_gain", -0.9, 1.0),
    "ggml.cpu_flops_frac": Param(GGML, "cpu_flops_frac", 0.01, 1.0),
    "llama.cpp.cpu_bw_frac": Param(("llama.cpp",), "cpu_bw_frac", 0.2, 1.0),
    "ik_llama.cpp.cpu_bw_frac": Param(("ik_llama.cpp",), "cpu_bw_frac", 0.2, 1.0),
    "kt.cpu_bw_frac": Param(("ktransformers",), "cpu_bw_frac", 0.1, 1.0),
    "kt.numa_gain": Param(("ktransformers",), "numa_gain", -0.5, 1.0),
    "kt.gpu_bw_frac": Param(KT, "gpu_bw_frac", 0.7, 1.0, why=(
        "bounded below at 0.7: ggml's GPU rows stream weights at ~0.83 of rated bandwidth, vLLM's on the GB10 at "
        "~0.66, and the KTransformers rows alone (one GPU, CPU-bound) trade it against the CPU terms freely")),
    "xingyun.cpu_bw_frac": Param(("xingyun",), "cpu_bw_frac", 0.1, 1.0, why=(
        "bounded by the HY90 engine's FP8 GEMV, 947 GB/s on 2x EPYC 9355 (OSDI '26 paper, Table 1)")),
    "vllm.gpu_bw_frac": Param(VLLM, "gpu_bw_frac", 0.3, 1.0),
}

# Prefill constants, fitted separately on the rows' prefill columns (they do not change batch-1
# decode, whose GEMVs are bandwidth- or dequantisation-bound).
PREFILL_PARAMS: dict[str, Param] = {
    "llama.cpp.cpu_gemm_frac": Param(("llama.cpp",), "cpu_gemm_frac", 0.005, 1.0),
    "ik_llama.cpp.cpu_gemm_frac": Param(("ik_llama.cpp",), "cpu_gemm_frac", 0.005, 1.0),
    "ggml.gpu_flops_frac": Param(GGML, "gpu_flops_frac", 0.01, 1.0),
    "kt.cpu_gemm_frac": Param(KT, "cpu_gemm_frac", 0.005, 1.0),
    "kt.gpu_flops_frac": Param(KT, "gpu_flops_frac", 0.01, 1.0),
}

# Parameters whose loss is flat until they bind (a roofline's compute side): several starting points.
EXTRA_STARTS: dict[str, tuple[float, ...]] = {"ggml.cpu_flops_frac": (0.03, 0.08, 0.2, 0.5)}


@dataclass(frozen=True)
class Derived:
    """A constant computed from a published figure (``harness.calibration.derive``), not fitted."""

    engines: tuple[str, ...]
    field: str
    source: str
    digits: int = 2
    step: float | None = None

    def round(self, value: float) -> float:
        if self.step is not None:
            return round(round(value / self.step) * self.step, 6)
        return float(f"{value:.{self.digits}g}")


DERIVED: dict[str, Derived] = {
    "ggml.vulkan_bf16_moe_frac": Derived(GGML, "vulkan_bf16_moe_frac", (
        "the model's Vulkan/ROCm ratio made the published one: kyuz0/amd-strix-halo-toolboxes benchmark logs, "
        "llama.cpp build 6486, Radeon 8060S, Qwen3-30B-A3B BF16 tg128: 24.94 tok/s ROCm, 8.29 Vulkan (RADV, "
        "'bf16: 0'); one calibration row (strix_qwen3_30b_bf16) would bind it, so it checks it instead")),
    "vllm.tp_layer_us": Derived(VLLM, "tp_layer_us", (
        "vLLM serving DeepSeek-R1-0528 AWQ on 8x H100 at concurrency 1: 16.1 ms per output token "
        "(tenstorrent/tt-inference-server issue #356, July 2025); what the fitted bandwidth share and per-layer "
        "floors do not explain, spread over the 61 layers. Brackets: SGLang v0.4.1.post2 on 8x H200, batch 1 "
        "(sgl-project/sglang PR #2643): 494 µs per layer; SemiAnalysis InferenceX, SGLang v0.5.7 on 8x H200 at "
        "8 users (March 2026): <= 163 µs"), step=1.0),
    "vllm.gpu_flops_frac": Derived(VLLM, "gpu_flops_frac", (
        "row sglang_96xh100_ep: 52,300 prompt tokens/s per node of 8x H100 (989 TFLOPS BF16 each) on 2000-token "
        "inputs; DeepSeek-V3's FLOPs per such token over 8 x 989 TFLOPS"), digits=1),
}


@dataclass(frozen=True)
class Fixed:
    """A value set by hand: a placeholder (no row binds it; predictions that use it say so), a
    definition (the ``ideal`` engine), a design fact with its source, or a field the engine's
    layout never uses."""

    value: float
    status: str  # "placeholder" | "definition" | "derived" | "unused"
    why: str


_UNUSED_TP = Fixed(0.0, "unused", "no tensor parallelism: the engine splits layers over GPUs")
_NO_VULKAN = Fixed(1.0, "unused", "no Vulkan backend")
_CPU_PLACEHOLDER = "no calibration row runs this engine's weights on the CPU"

FIXED: dict[str, dict[str, Fixed]] = {
    "ideal": {f: Fixed(v, "definition", "upper bound: every byte at full bandwidth, every FLOP at the full rate, "
                                        "no overhead")
              for f, v in (("cpu_bw_frac", 1.0), ("numa_gain", 1.0), ("gpu_bw_frac", 1.0), ("cpu_layer_us", 0.0),
                           ("cpu_thread_us", 0.0), ("gpu_layer_us", 0.0), ("moe_layer_us", 0.0),
                           ("cpu_flops_frac", 1.0), ("gpu_flops_frac", 1.0), ("cpu_gemm_frac", 1.0),
                           ("vulkan_bf16_moe_frac", 1.0), ("tp_layer_us", 0.0))},
    "llama.cpp": {"tp_layer_us": _UNUSED_TP},
    "ik_llama.cpp": {"tp_layer_us": _UNUSED_TP},
    "ktransformers": {
        "cpu_layer_us": Fixed(0.0, "placeholder", "its rows are bandwidth-bound; no row binds a CPU floor"),
        "cpu_thread_us": Fixed(0.0, "placeholder", "its rows are bandwidth-bound; no row binds a CPU floor"),
        "cpu_flops_frac": Fixed(0.5, "placeholder", "CPU compute binds on none of its rows"),
        "vulkan_bf16_moe_frac": _NO_VULKAN, "tp_layer_us": _UNUSED_TP},
    "xingyun": {
        "numa_gain": Fixed(1.0, "derived", "a copy of the routed experts per socket (OSDI '26 paper): every socket "
                                           "streams its own"),
        "cpu_layer_us": Fixed(0.0, "placeholder", "as KTransformers'"),
        "cpu_thread_us": Fixed(0.0, "placeholder", "as KTransformers'"),
        "cpu_flops_frac": Fixed(0.5, "placeholder", "as KTransformers': CPU compute binds on none of its rows"),
        "vulkan_bf16_moe_frac": _NO_VULKAN, "tp_layer_us": _UNUSED_TP},
    "mlx": {"cpu_bw_frac": Fixed(0.5, "unused", "MLX runs the weights on the Apple GPU"),
            "numa_gain": Fixed(0.0, "unused", "one socket: Apple silicon"),
            "cpu_layer_us": Fixed(0.0, "unused", "MLX runs the weights on the Apple GPU"),
            "cpu_thread_us": Fixed(0.0, "unused", "MLX runs the weights on the Apple GPU"),
            "cpu_flops_frac": Fixed(0.1, "unused", "MLX runs the weights on the Apple GPU"),
            "cpu_gemm_frac": Fixed(0.3, "unused", "MLX runs the weights on the Apple GPU"),
            "vulkan_bf16_moe_frac": _NO_VULKAN, "tp_layer_us": _UNUSED_TP},
    **{e: {"cpu_bw_frac": Fixed(0.5, "placeholder", _CPU_PLACEHOLDER),
           "numa_gain": Fixed(0.0, "placeholder", _CPU_PLACEHOLDER),
           "cpu_layer_us": Fixed(0.0, "placeholder", _CPU_PLACEHOLDER),
           "cpu_thread_us": Fixed(0.0, "placeholder", _CPU_PLACEHOLDER),
           "cpu_flops_frac": Fixed(0.1, "placeholder", _CPU_PLACEHOLDER),
           "cpu_gemm_frac": Fixed(0.3, "placeholder", _CPU_PLACEHOLDER),
           "vulkan_bf16_moe_frac": _NO_VULKAN} for e in VLLM},
}


@dataclass(frozen=True)
class Traits:
    """What an engine is, not how fast: its multi-GPU layout, MTP, state dtype, overlap, and the note
    every prediction with it repeats (``{field}`` is filled with the profile's value)."""

    multi_gpu: str
    mtp: bool
    note: str
    linear_state_bytes: float = 2.0
    overlaps_shared_experts: bool = False
    apple_only: bool = False  # runs on Apple silicon GPUs only (MLX's Metal kernels)


TRAITS: dict[str, Traits] = {
    "ideal": Traits("tensor", False, "upper bound: every byte at full measured/rated bandwidth, every FLOP at the "
                                     "full rate, no overhead"),
    "llama.cpp": Traits("layer", False, (
        "llama.cpp: mmap'd weights without NUMA-aware placement (a second socket costs {neg_numa_gain:.2f} of one), "
        "layers split over GPUs; cpu_bw_frac from its CPU rows (kt_v02_ds_2s_llamacpp, lcpp_*); a current "
        "build (January 2025 builds ran DeepSeek on CUDA GPUs ~10x slower: rows unsloth_r1_iq1s_2xh100, "
        "ho_2xa100_r1_iq1s)"), linear_state_bytes=4.0),
    "ik_llama.cpp": Traits("layer", False, (
        "ik_llama.cpp: fused MoE (-fmoe), MLA kernels, run-time repacking; streams weights at the full "
        "STREAM rate on CPU (fitted on its ik_* rows)"), linear_state_bytes=4.0),
    "ktransformers": Traits("layer", False, (
        "KTransformers: routed experts on CPU, duplicated per NUMA node (a second socket adds {numa_gain:.2f} of the "
        "first); the CPU expert kernels stream at {cpu_bw_frac:.2f} of the host's STREAM rate per socket; GPU side "
        "with the per-layer floors shared by the GPU engines (its rows cannot pin them alone) and {gpu_bw_frac:.2f} "
        "of the GPU's bandwidth (bounded in the fit); CPU compute ({cpu_flops_frac:g} of rated) binds on none of "
        "its rows: a placeholder"), overlaps_shared_experts=True),
    "xingyun": Traits("layer", False, (
        "行云 (Xingyun) HY90 engine, OSDI '26: KTransformers' layout with faster CPU expert kernels, which "
        "stream at {cpu_bw_frac:.2f} of the host's STREAM rate on every socket (its FP8 GEMV alone reaches 947 GB/s "
        "on 2x EPYC 9355); GPU side and CPU compute as KTransformers'"), overlaps_shared_experts=True),
    "vllm": Traits("tensor", True, (
        "vLLM: tensor/expert parallel over GPUs (bandwidth share fitted on the DGX Spark rows, per-layer "
        "floors shared with the other GPU engines, a tensor-parallel floor per layer; its CPU terms are "
        "not fitted: vLLM does not run weights on the CPU in these rows); prefill GEMMs at {gpu_flops_frac:g} of "
        "rated BF16 FLOP/s (row sglang_96xh100_ep)")),
    "sglang": Traits("tensor", True, (
        "SGLang: expert parallel (DeepEP), MTP; decode GPU terms taken from the vLLM fit (no batch-1 SGLang "
        "row); prefill GEMMs at {gpu_flops_frac:g} of rated BF16 FLOP/s (row sglang_96xh100_ep)")),
    "tensorrt-llm": Traits("tensor", True, (
        "TensorRT-LLM (PyTorch backend, trtllm-serve): tensor/expert parallel, attention DP, MTP; decode GPU terms "
        "and the tensor-parallel floor taken from the vLLM fit (no batch-1 TensorRT-LLM row: a placeholder "
        "by kinship); prefill GEMMs at {gpu_flops_frac:g} of rated BF16 FLOP/s (row sglang_96xh100_ep)")),
    "mlx": Traits("layer", False, (
        "MLX (mlx-lm) on an Apple GPU: no calibration row runs it, so its GPU terms are llama.cpp's Metal fit "
        "({gpu_bw_frac:.2f} of the unified memory's bandwidth, the shared per-layer floors): a placeholder by "
        "kinship, likely pessimistic (MLX is usually faster than llama.cpp's Metal path); several Macs split "
        "the layers (mlx.distributed pipeline)"), apple_only=True),
}
ENGINE_ORDER = tuple(TRAITS)

# Engines without a calibration row of their own that take some fields from a kindred engine's fit:
# (kindred engine, fields, why). The fit file marks those fields placeholders, with this reason.
KIN: dict[str, tuple[str, tuple[str, ...], str]] = {
    "mlx": ("llama.cpp", ("gpu_bw_frac", "gpu_layer_us", "moe_layer_us", "gpu_flops_frac"),
            "no calibration row runs MLX: llama.cpp's fitted value on Apple GPUs (Metal), by kinship"),
}
