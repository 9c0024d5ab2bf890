"""Fit the engine profiles on the calibration rows and print the fitted constants.

    python bench/fit_engines.py

Parameters are tied across engines that share kernels (llama.cpp and ik_llama.cpp share ggml's
GPU kernels and thread pool; all GPU engines share the per-layer runtime floor), so there are far
fewer constants than rows. The loss is a Huber
loss on log(predicted / measured), squared within ×1.5 and linear beyond (robust to the few rows
that no bandwidth model explains). Coordinate descent with shrinking multiplicative steps, in bounds.
The printed values are what harness/engines.py holds; rerun after changing the model. It then
prints the fitted profiles on harness/data/calibration/holdout.csv (published rows it never fits on), so a change
that only helps the calibration rows shows up there.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.engines import ENGINES  # noqa: E402
from harness.calibration import holdout_path  # noqa: E402
from harness.validate import score_case, usable_cases  # noqa: E402

# parameter name -> (engines it applies to, field, lower, upper)
PARAMS: dict[str, tuple[tuple[str, ...], str, float, float]] = {
    "ggml.gpu_bw_frac": (("llama.cpp", "ik_llama.cpp"), "gpu_bw_frac", 0.3, 1.0),
    # GPU runtime floors (kernel launches, MoE routing kernels) are shared by the GPU engines: vLLM's
    # three DGX Spark rows alone would only restate themselves. They are fitted for a GPU of
    # harness.predict.FLOOR_REF_TFLOPS and scale with each row's GPU.
    # KTransformers launches its GPU work (attention, shared experts) through the same CUDA runtime; its
    # own rows are CPU-compute bound and cannot pin a floor (fitted alone it went to 0, which made a
    # CPU-offload layout beat the GPUs on GPU servers for models that fit them).
    "gpu_runtime.gpu_layer_us": (("llama.cpp", "ik_llama.cpp", "vllm", "sglang", "ktransformers", "xingyun"),
                                 "gpu_layer_us", 0.0, 2000.0),
    "gpu_runtime.moe_layer_us": (("llama.cpp", "ik_llama.cpp", "vllm", "sglang", "ktransformers", "xingyun"),
                                 "moe_layer_us", 0.0, 3000.0),
    "ggml.cpu_layer_us": (("llama.cpp", "ik_llama.cpp"), "cpu_layer_us", 0.0, 3000.0),
    "ggml.cpu_thread_us": (("llama.cpp", "ik_llama.cpp"), "cpu_thread_us", 0.0, 50.0),
    "ggml.numa_gain": (("llama.cpp", "ik_llama.cpp"), "numa_gain", -0.9, 1.0),
    "ggml.cpu_flops_frac": (("llama.cpp", "ik_llama.cpp"), "cpu_flops_frac", 0.01, 1.0),
    "llama.cpp.cpu_bw_frac": (("llama.cpp",), "cpu_bw_frac", 0.2, 1.0),
    "ik_llama.cpp.cpu_bw_frac": (("ik_llama.cpp",), "cpu_bw_frac", 0.2, 1.0),
    "kt.cpu_bw_frac": (("ktransformers",), "cpu_bw_frac", 0.1, 1.0),
    "kt.numa_gain": (("ktransformers",), "numa_gain", -0.5, 1.0),
    # bounded below at 0.7: ggml's GPU rows stream weights at 0.83 of rated bandwidth (vLLM's on the GB10
    # at 0.66), and the KTransformers rows alone (one GPU, CPU-bound) trade it against the CPU terms freely
    "kt.gpu_bw_frac": (("ktransformers", "xingyun"), "gpu_bw_frac", 0.7, 1.0),
    # the HY90 engine's CPU kernels (its rows hy90_fp8 / hy90_int4; bounded by its 947 GB/s FP8 GEMV)
    "xingyun.cpu_bw_frac": (("xingyun",), "cpu_bw_frac", 0.1, 1.0),
    "vllm.gpu_bw_frac": (("vllm", "sglang"), "gpu_bw_frac", 0.3, 1.0),
}

# BF16 expert mat-vecs on ggml's Vulkan backend without the bf16 shader extension
# (harness.predict.gpu_kernel_penalty) are not fitted: one calibration row binds them, so a fitted
# value would only restate that row. They are derived from a published same-file pair on the same
# GPU instead, and strix_qwen3_30b_bf16 checks them out of sample: kyuz0/amd-strix-halo-toolboxes
# benchmark logs, llama.cpp build 6486, Radeon 8060S, Qwen3-30B-A3B BF16 tg128: 24.94 tok/s on
# ROCm, 8.29 tok/s on Vulkan (RADV, "bf16: 0").
VULKAN_BF16_PAIR = {"rocm": 24.94, "vulkan": 8.29}


def derive_vulkan_bf16_frac(engines: dict) -> float:
    """The share of the GPU rate that makes the model's Vulkan/ROCm ratio the published one."""
    from harness.models import load_model
    from harness.predict import Scenario
    from harness.quant import parse_quant
    from harness.specs import load_machine
    from harness.validate import predict_with

    machine = load_machine("ryzen-ai-max-395")
    sc = Scenario(model=load_model("qwen3-30b-a3b"), quant=parse_quant("bf16"), engine="llama.cpp",
                  placement="gpu", context=128)
    target = VULKAN_BF16_PAIR["vulkan"] / VULKAN_BF16_PAIR["rocm"]

    def ratio(frac: float) -> float:
        eng = dict(engines)
        eng["llama.cpp"] = replace(eng["llama.cpp"], vulkan_bf16_moe_frac=frac)
        vk = predict_with(eng, machine, replace(sc, backend="vulkan")).decode_tokens_per_s
        return vk / predict_with(eng, machine, replace(sc, backend="rocm")).decode_tokens_per_s

    lo, hi = 1e-3, 1.0  # ratio grows with the share
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < target else (lo, mid)
    return (lo + hi) / 2


# Tensor-parallel floor (harness/engines.py _TP_LAYER_US): vLLM serving DeepSeek-R1-0528 AWQ on 8x H100
# at concurrency 1 gives 16.1 ms per output token (tenstorrent/tt-inference-server issue #356, July 2025);
# whatever the fitted bandwidth share and per-layer floors do not explain is spread over the 61 layers.
TP_TPOT_S = 16.1e-3


def derive_tp_layer_us(engines: dict) -> float:
    """µs per layer of tensor-parallel collectives that make the model's 8x H100 TPOT the published one."""
    from harness.calibration import row_machine
    from harness.models import load_model
    from harness.predict import Scenario
    from harness.quant import parse_quant
    from harness.validate import predict_with

    machine, _ = row_machine({"id": "vllm_8xh100_r1_awq", "gpu_model": "H100 80GB", "gpu_count": "8",
                              "placement": "multi_gpu"})
    model = load_model("deepseek-v3")
    eng = dict(engines)
    eng["vllm"] = replace(eng["vllm"], tp_layer_us=0.0)
    sc = Scenario(model=model, quant=parse_quant("int4"), engine="vllm", placement="gpu", context=0)
    step = 1 / predict_with(eng, machine, sc).decode_tokens_per_s
    return (TP_TPOT_S - step) / model.n_layers * 1e6


# Prefill constants, fitted separately on the rows' prefill columns (they do not change batch-1
# decode, whose GEMVs are bandwidth- or dequantisation-bound).
PREFILL_PARAMS: dict[str, tuple[tuple[str, ...], str, float, float]] = {
    "llama.cpp.cpu_gemm_frac": (("llama.cpp",), "cpu_gemm_frac", 0.005, 1.0),
    "ik_llama.cpp.cpu_gemm_frac": (("ik_llama.cpp",), "cpu_gemm_frac", 0.005, 1.0),
    "ggml.gpu_flops_frac": (("llama.cpp", "ik_llama.cpp"), "gpu_flops_frac", 0.01, 1.0),
    "kt.cpu_gemm_frac": (("ktransformers",), "cpu_gemm_frac", 0.005, 1.0),
    "kt.gpu_flops_frac": (("ktransformers",), "gpu_flops_frac", 0.01, 1.0),
}


def current() -> dict[str, float]:
    return {name: getattr(ENGINES[engines[0]], fld) for name, (engines, fld, _, _) in PARAMS.items()}


def profiles(values: dict[str, float]) -> dict:
    out = dict(ENGINES)
    for name, (engines, fld, _, _) in PARAMS.items():
        for e in engines:
            out[e] = replace(out[e], **{fld: values[name]})
    return out


def loss(values: dict[str, float], cases: list) -> float:
    engines = profiles(values)
    total = 0.0
    for c in cases:
        r = score_case(c, engines)
        if PREFILL_MODE:
            if r.measured_prefill and r.predicted_prefill:
                total += huber(math.log(r.predicted_prefill / r.measured_prefill))
        else:
            total += huber(math.log(max(r.predicted, 1e-9) / r.measured))
    return total


PREFILL_MODE = False


HUBER_DELTA = math.log(1.5)


def huber(x: float) -> float:
    """Squared inside ×1.5 (balances the errors of rows that fit), linear beyond (rows that no
    bandwidth model explains do not drag the rest)."""
    a = abs(x)
    return 0.5 * a * a if a <= HUBER_DELTA else HUBER_DELTA * (a - 0.5 * HUBER_DELTA)


# Starting points for parameters whose loss is flat until they bind (a roofline's compute side).
STARTS = {"ggml.cpu_flops_frac": (0.03, 0.08, 0.2, 0.5)}


def fit(cases: list, sweeps: int = 40) -> dict[str, float]:
    """Coordinate descent from each combination of starting points; the best result wins."""
    import itertools

    best_values, best_loss = current(), math.inf
    names = list(STARTS)
    for combo in itertools.product(*(STARTS[n] for n in names)):
        start = current() | dict(zip(names, combo))
        values = _descend(start, cases, sweeps)
        val = loss(values, cases)
        if val < best_loss:
            best_values, best_loss = values, val
    return best_values


def _descend(values: dict[str, float], cases: list, sweeps: int) -> dict[str, float]:
    best = loss(values, cases)
    steps = {k: 0.5 for k in values}
    for _ in range(sweeps):
        improved = False
        for name, (_, _, lo, hi) in PARAMS.items():
            for direction in (+1, -1):
                span = (hi - lo) * steps[name] * 0.25
                trial = dict(values)
                trial[name] = min(hi, max(lo, values[name] + direction * span))
                val = loss(trial, cases)
                if val < best - 1e-9:
                    values, best, improved = trial, val, True
                    break
            else:
                steps[name] *= 0.6
        if not improved and max(steps.values()) < 1e-3:
            break
    return values


def rows_used(cases: list) -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for c in cases:
        used.setdefault(c.engine, []).append(c.id)
    return used


def main() -> None:
    global PREFILL_MODE
    if "--prefill" in sys.argv:
        PREFILL_MODE = True
        PARAMS.clear()
        PARAMS.update(PREFILL_PARAMS)
        STARTS.clear()
    cases = usable_cases()
    before = loss(current(), cases)
    values = fit(cases)
    print(f"loss (Huber on log ratio) over {len(cases)} rows: {before:.3f} -> {loss(values, cases):.3f}")
    for name, v in values.items():
        print(f"  {name:28s} {v:10.4f}")
    for engine, ids in rows_used(cases).items():
        print(f"{engine}: fitted on {', '.join(ids)}")
    if not PREFILL_MODE:
        held_out(values)
        print(f"  ggml.vulkan_bf16_moe_frac {derive_vulkan_bf16_frac(profiles(values)):10.4f}"
              f"  (derived from {VULKAN_BF16_PAIR}, not fitted)")
        print(f"  vllm/sglang tp_layer_us    {derive_tp_layer_us(profiles(values)):10.1f}"
              f"  (derived from vLLM's {TP_TPOT_S * 1e3:.1f} ms TPOT on 8x H100, not fitted)")


HOLDOUT = holdout_path()


def held_out(values: dict[str, float]) -> None:
    """The fitted profiles on harness/data/calibration/holdout.csv, published rows the fit never sees."""
    engines = profiles(values)
    scores = [score_case(c, engines) for c in usable_cases(HOLDOUT)]
    for r in scores:
        print(f"  held out {r.id:36s} {r.engine:14s} meas {r.measured:8.2f} pred {r.predicted:8.2f} x{r.ratio:5.2f}")
    errs = sorted(abs(r.error) for r in scores)
    print(f"held out: MAPE {100 * sum(errs) / len(errs):.1f}%, median {100 * errs[len(errs) // 2]:.1f}%, "
          f"{sum(1 for r in scores if 1 / 1.5 <= r.ratio <= 1.5)} of {len(scores)} within x1.5")


def report(values: dict[str, float]) -> None:
    engines = profiles(values)
    for c in usable_cases():
        r = score_case(c, engines)
        print(f"  {r.id:36s} {r.engine:14s} meas {r.measured:8.2f} pred {r.predicted:8.2f} x{r.ratio:5.2f}")


if __name__ == "__main__":
    main()
