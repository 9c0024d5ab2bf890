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
- ``gpu_layer_us``: fixed time per layer on the GPU side (kernel launches), for a GPU of
  ``harness.predict.FLOOR_REF_TFLOPS``; it and ``moe_layer_us`` shrink on faster GPUs.
- ``moe_layer_us``: extra time per MoE layer (routing, top-k, gather/scatter of experts; the
  CPU↔GPU hand-off in a hybrid). Dense models do not pay it: they reach 0.8+ of bandwidth where
  MoE models reach 0.3–0.7 (calibration README).
- ``cpu_flops_frac``: fraction of CPU peak FLOP/s the decode kernels (dequantise + GEMV) reach.
- ``cpu_gemm_frac`` / ``gpu_flops_frac``: fraction of peak FLOP/s reached in the GEMMs of prefill
  (fitted on the rows' prefill columns) and of large decode batches on GPUs.
- ``multi_gpu``: "layer" (layers split across GPUs, run one after another) or "tensor"
  (tensor/expert parallel: the GPUs stream at the same time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    cpu_gemm_frac: float = 0.3  # share of CPU peak FLOP/s in prefill GEMMs (batched, unlike decode GEMVs)
    # share of the GPU streaming rate that BF16 routed-expert mat-vecs reach on the Vulkan backend of
    # a device without the bf16 shader extension (harness.predict.gpu_kernel_penalty); 1.0 = no penalty
    vulkan_bf16_moe_frac: float = 1.0
    # extra time per layer when one node's GPUs run the layer tensor/expert parallel (single-node
    # "gpu" placement over 2+ GPUs): the collectives after attention and MoE and kernels too small to
    # fill a GPU set a floor that a one-GPU row cannot show
    tp_layer_us: float = 0.0
    # bytes per element of a linear-attention state (Qwen3-Next's Gated DeltaNet): vLLM/SGLang keep it
    # in the model dtype (BF16); ggml's recurrent cache is F32
    linear_state_bytes: float = 2.0
    # hybrid: the GPU computes the shared experts while the CPU computes the routed ones (KTransformers
    # submits the routed experts asynchronously: KDeepseekV3MoE.forward, submit_for_one_decode /
    # sync_for_one_decode in ktransformers/operators/experts.py); ggml's scheduler runs them in turn
    overlaps_shared_experts: bool = False


# Fitted by bench/fit_engines.py; see each profile's ``fitted_on`` for the calibration rows.
ENGINES: dict[str, EngineProfile] = {}


def _register(p: EngineProfile) -> None:
    ENGINES[p.name] = p


_register(EngineProfile(
    name="ideal", cpu_bw_frac=1.0, numa_gain=1.0, gpu_bw_frac=1.0, cpu_layer_us=0.0, cpu_thread_us=0.0,
    gpu_layer_us=0.0, moe_layer_us=0.0, cpu_flops_frac=1.0, gpu_flops_frac=1.0, cpu_gemm_frac=1.0,
    multi_gpu="tensor", mtp=False,
    fitted_on=(), note="upper bound: every byte at full measured/rated bandwidth, every FLOP at the full rate, "
                       "no overhead",
))


# Fitted by bench/fit_engines.py (Huber loss on log(predicted/measured), parameters tied across
# engines that share kernels). Rows used are named in each profile's ``fitted_on``.
_GGML_ROWS = ("kt_v02_ds_2s_llamacpp", "spark_gptoss120b", "spark_gptoss120b_d32k", "spark_qwen25_7b_q8_dense",
              "m2u_gptoss20b", "m2u_qwen3coder30b_q8", "m2u_qwen25_7b_q8_dense", "unsloth_r1_iq1s_2xh100",
              "strix_gptoss120b_radv", "strix_gptoss120b_rocm", "strix_qwen3_30b_bf16", "strix_glm45air_q4kxl",
              "strix_llama4scout_q8", "strix_llama33_70b_q8_dense", "strix_llama2_7b_q40_dense",
              "lcpp_7950x_qwen30b_iq4xs", "lcpp_9355_qwen235_q6k_cpu", "m2max_mixtral_q4_0", "m2max_mixtral_q4km",
              "ik_6980p_r1_q4km", "ik_6980p_r1_udq2kxl", "ik_7773x_r1_q4km_mla", "ik_2x6138_qwen235_q8",
              "ik_7950x_qwen30b_iq4xs", "ik_9355_qwen235_iq6k_cpu", "ik_8480_maverick_iq4xs",
              "ik_2x8480_maverick_iq4xs", "ik_16x3090_r1")
# Shared by llama.cpp and ik_llama.cpp (same ggml GPU kernels and CPU thread pool), fitted on _GGML_ROWS;
# gpu_layer_us and moe_layer_us are the GPU runtime floor shared with vLLM/SGLang (fitted with _VLLM_ROWS
# too). vulkan_bf16_moe_frac is not fitted (one row, strix_qwen3_30b_bf16, would bind it): it is derived
# by bench/fit_engines.py from a published same-file pair on the same GPU (kyuz0/amd-strix-halo-toolboxes
# benchmark logs, build 6486, Qwen3-30B-A3B BF16: 24.94 tok/s ROCm vs 8.29 Vulkan), and that row checks it.
_GGML = dict(gpu_bw_frac=0.83, gpu_layer_us=20.2, moe_layer_us=63.5, cpu_layer_us=0.0, cpu_thread_us=5.70,
             numa_gain=-0.50, cpu_flops_frac=0.051, gpu_flops_frac=0.19, multi_gpu="layer", mtp=False,
             vulkan_bf16_moe_frac=0.200, linear_state_bytes=4.0)
# Prefill (bench/fit_engines.py --prefill, on the prefill column of the same rows): gpu_flops_frac
# above, and cpu_gemm_frac per engine below — ik_llama.cpp's repacked GEMMs reach ~6x llama.cpp's
# on the same CPUs (rows ik_7950x_* vs lcpp_7950x_*, ik_9355_* vs lcpp_9355_*).
_register(EngineProfile(
    name="llama.cpp", cpu_bw_frac=0.92, cpu_gemm_frac=0.085, **_GGML, fitted_on=_GGML_ROWS,
    note="llama.cpp: mmap'd weights without NUMA-aware placement (a second socket costs 0.50 of one), "
         "layers split over GPUs; cpu_bw_frac from its CPU rows (kt_v02_ds_2s_llamacpp, lcpp_*); a current "
         "build (January 2025 builds ran DeepSeek on CUDA GPUs ~10x slower: rows unsloth_r1_iq1s_2xh100, "
         "ho_2xa100_r1_iq1s)",
))
_register(EngineProfile(
    name="ik_llama.cpp", cpu_bw_frac=1.0, cpu_gemm_frac=0.49, **_GGML, fitted_on=_GGML_ROWS,
    note="ik_llama.cpp: fused MoE (-fmoe), MLA kernels, run-time repacking; streams weights at the full "
         "STREAM rate on CPU (fitted on its ik_* rows)",
))
# vLLM/SGLang prefill: row sglang_96xh100_ep reports 52,300 prompt tokens/s per node of 8×H100
# (989 TFLOPS BF16 each) on 2000-token inputs; DeepSeek-V3 costs 78.2 GFLOP per such token
# (harness.models), so GEMMs ran at 52,300 × 78.2e9 / (8 × 989e12) = 0.52 of rated: gpu_flops_frac 0.5.
_register(EngineProfile(
    name="ktransformers", cpu_bw_frac=0.42, numa_gain=0.69, gpu_bw_frac=0.70, cpu_layer_us=0.0, cpu_thread_us=0.0,
    gpu_layer_us=_GGML["gpu_layer_us"], moe_layer_us=_GGML["moe_layer_us"], cpu_flops_frac=0.5,
    gpu_flops_frac=0.056, cpu_gemm_frac=0.62,
    multi_gpu="layer", mtp=False, overlaps_shared_experts=True,
    fitted_on=("kt_v02_ds_1s_8e", "kt_v02_ds_2s_8e", "kt_v021_ds_8e_8k", "kt_i314_epyc9654_10k"),
    note="KTransformers: routed experts on CPU, duplicated per NUMA node (a second socket adds 0.69 of the "
         "first); the CPU expert kernels stream at 0.42 of the host's STREAM rate per socket; GPU side with the "
         "per-layer floors shared by the GPU engines (its rows cannot pin them alone) and 0.70 of the GPU's "
         "bandwidth (bounded in the fit); CPU compute (0.5 of rated) binds on none of its rows: a placeholder",
))
# The HY90 appliance's own engine (行云集成电路 with Tsinghua: "Achieving Cloud-Grade SLOs for Local
# Mixture-of-Experts Inference through CPU-GPU Hybrid Design", OSDI '26, arXiv 2606.10493). Its abstract
# gives 28 tok/s for INT4 DeepSeek-V3 and 21.5 for FP8 on 2x EPYC 9355 + RTX 5090: the figures behind
# calibration rows hy90_int4 / hy90_fp8, which therefore are not KTransformers (the paper's KTransformers
# baseline on the same box: 22 tok/s for Q4_K_M). Same layout as KTransformers (routed experts on the CPU,
# a copy per socket, shared experts on the GPU at the same time); its AVX-512 FP8 GEMV streams 947 GB/s
# there (paper, Table 1), the bound for cpu_bw_frac. GPU terms shared with KTransformers (one GPU, same
# CUDA runtime); cpu_bw_frac fitted on the two rows (FP8 and INT4 bind it together). The paper measures
# its "INT4" on the DeepSeek-R1 Q4_K_M GGUF (Sec. 4.4, "requires only 404GB of RAM"), so hy90_int4 is
# scored as q4_k_m (harness.calibration._BUILD_QUANTS).
_register(replace(
    ENGINES["ktransformers"], name="xingyun", cpu_bw_frac=0.53, numa_gain=1.0, fitted_on=("hy90_fp8", "hy90_int4"),
    note="行云 (Xingyun) HY90 engine, OSDI '26: KTransformers' layout with faster CPU expert kernels, which "
         "stream at 0.53 of the host's STREAM rate on every socket (its FP8 GEMV alone reaches 947 GB/s on "
         "2x EPYC 9355); GPU side and CPU compute as KTransformers'",
))
_VLLM_ROWS = ("spark_vllm_gptoss120b", "spark_vllm_llama33_70b_nvfp4_dense", "spark_vllm2602_gptoss120b")
# vLLM's per-layer floors are the GPU runtime floor shared with ggml (fitted alone on three rows they
# would only restate them). The floors are those of a FLOOR_REF_TFLOPS GPU (harness.predict): on an
# H200 they are a third as long, which puts one H200 at ~400 tok/s for gpt-oss-120b under vLLM; a vLLM
# user reported ~150 on a B200 and filed it as a bug (vllm-project/vllm issue #27075), so single-stream
# vLLM on the fastest GPUs is the least certain corner of the model.
# The two gpt-oss rows ran different builds on one box: spark_vllm_gptoss120b the community
# `vllm-node-mxfp4` build, which also quantises attention and output head to MXFP4 (recipe
# mxfp4_all, harness.calibration._BUILD_QUANTS), spark_vllm2602_gptoss120b NVIDIA's 26.02 image on the
# release's BF16 attention with its Marlin MXFP4 fallback on sm_121 ("MXFP4 resolves to MARLIN", same
# issue as the first row's: spark-arena/recipe-registry #17). Read so, one bandwidth share, 0.66, serves
# both (-6% and -2%) and the dense NVFP4 row (+8%).
# tp_layer_us for vLLM/SGLang, the time per layer that tensor parallelism over one node's GPUs adds
# (collectives after attention and MoE, kernels too small to fill a GPU), not scaled with GPU FLOP/s:
# vLLM serving DeepSeek-R1-0528 AWQ on 8x H100 at concurrency 1 gives a 16.1 ms time per output token
# (tenstorrent/tt-inference-server issue #356, July 2025); what the activated weights over 8 x 3.35 TB/s
# at vLLM's gpu_bw_frac and the shared per-layer floors (scaled to an H100) do not explain, spread over
# 61 layers, is 219 µs (bench/fit_engines.py derives it after each fit). Older and newer figures bracket
# it: SGLang v0.4.1.post2 on 8x H200, batch 1 (sgl-project/sglang PR #2643, January 2025): 33.0 ms, i.e.
# 494 µs per layer; SemiAnalysis InferenceX, SGLang v0.5.7 on 8x H200 at 8 concurrent users (March
# 2026): 12.8 ms, i.e. <= 163 µs.
_TP_LAYER_US = 219.0
_register(EngineProfile(
    name="vllm", cpu_bw_frac=0.5, numa_gain=0.0, gpu_bw_frac=0.66, cpu_layer_us=0.0, cpu_thread_us=0.0,
    gpu_layer_us=_GGML["gpu_layer_us"], moe_layer_us=_GGML["moe_layer_us"], tp_layer_us=_TP_LAYER_US,
    cpu_flops_frac=0.1, gpu_flops_frac=0.5, multi_gpu="tensor", mtp=True,
    fitted_on=_VLLM_ROWS,
    note="vLLM: tensor/expert parallel over GPUs (bandwidth share fitted on the DGX Spark rows, per-layer "
         "floors shared with the other GPU engines, a tensor-parallel floor per layer; its CPU terms are "
         "not fitted: vLLM does not run weights on the CPU in these rows); prefill GEMMs at 0.5 of rated "
         "BF16 FLOP/s (row sglang_96xh100_ep)",
))
# No batch-1 SGLang row exists (sglang_96xh100_ep is aggregate throughput), so SGLang takes vLLM's GPU
# terms: both run the same CUDA kernel families (FlashInfer, CUTLASS/DeepGEMM MoE).
_register(EngineProfile(
    name="sglang", cpu_bw_frac=0.5, numa_gain=0.0, gpu_bw_frac=0.66, cpu_layer_us=0.0, cpu_thread_us=0.0,
    gpu_layer_us=_GGML["gpu_layer_us"], moe_layer_us=_GGML["moe_layer_us"], tp_layer_us=_TP_LAYER_US,
    cpu_flops_frac=0.1, gpu_flops_frac=0.5, multi_gpu="tensor", mtp=True,
    fitted_on=(*_VLLM_ROWS, "sglang_96xh100_ep"),
    note="SGLang: expert parallel (DeepEP), MTP; decode GPU terms taken from the vLLM fit (no batch-1 SGLang "
         "row); prefill GEMMs at 0.5 of rated BF16 FLOP/s (row sglang_96xh100_ep)",
))


def engine_names() -> list[str]:
    return ["auto", *ENGINES]


_ALIASES = {"llama_cpp": "llama.cpp", "llamacpp": "llama.cpp", "ik_llama": "ik_llama.cpp",
            "ik-llama.cpp": "ik_llama.cpp", "kt": "ktransformers", "hy90": "xingyun"}


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
    if placement == "multi-node" or (nodes > 1 and placement == "gpu"):
        return "sglang"
    if placement == "gpu" and gpu_count > 1:
        return "vllm"
    if placement == "cpu":
        return "ik_llama.cpp"
    return "llama.cpp"
