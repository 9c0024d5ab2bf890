"""Constants derived from one published figure each (not fitted): the model is solved for the value
that reproduces the figure, given the other constants. Sources in ``profiles.DERIVED``."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from harness.calibration.rows import row_machine
from harness.documents.machines import load_machine
from harness.perf.engines import EngineSet
from harness.perf.prediction import predict
from harness.workload import load_model
from harness.workload.quant import parse_quant
from harness.workload.scenario import Scenario

# kyuz0/amd-strix-halo-toolboxes benchmark logs, llama.cpp build 6486, Radeon 8060S (Ryzen AI Max+ 395),
# Qwen3-30B-A3B BF16 tg128, tok/s
VULKAN_BF16_PAIR = {"rocm": 24.94, "vulkan": 8.29}
# tenstorrent/tt-inference-server issue #356: vLLM, DeepSeek-R1-0528 AWQ, 8x H100, concurrency 1
TP_TPOT_S = 16.1e-3
# row sglang_96xh100_ep: prompt tokens/s per node of 8x H100 on 2000-token inputs; H100 SXM dense BF16
SGLANG_PREFILL_TOK_S, SGLANG_PROMPT, H100_BF16_TFLOPS = 52_300.0, 2000, 989.0


def vulkan_bf16_moe_frac(engines: EngineSet) -> float:
    """The share of the GPU rate that makes the model's Vulkan/ROCm ratio the published one (bisection:
    the ratio grows with the share)."""
    machine = load_machine("ryzen-ai-max-395")
    sc = Scenario(model=load_model("qwen3-30b-a3b"), quant=parse_quant("bf16"), engine="llama.cpp",
                  placement="gpu", context=128)
    target = VULKAN_BF16_PAIR["vulkan"] / VULKAN_BF16_PAIR["rocm"]

    def ratio(frac: float) -> float:
        eng = engines.replace(replace(engines["llama.cpp"], vulkan_bf16_moe_frac=frac))
        vk = predict(machine, replace(sc, backend="vulkan"), eng).decode_tokens_per_s
        return vk / predict(machine, replace(sc, backend="rocm"), eng).decode_tokens_per_s

    lo, hi = 1e-3, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < target else (lo, mid)
    return (lo + hi) / 2


def tp_layer_us(engines: EngineSet) -> float:
    """µs per layer of tensor-parallel collectives that make the model's 8x H100 TPOT the published one."""
    machine, _ = row_machine({"id": "vllm_8xh100_r1_awq", "gpu_model": "H100 80GB", "gpu_count": "8",
                              "placement": "multi_gpu"})
    model = load_model("deepseek-v3")
    eng = engines.replace(replace(engines["vllm"], tp_layer_us=0.0))
    sc = Scenario(model=model, quant=parse_quant("int4"), engine="vllm", placement="gpu", context=0)
    step = 1 / predict(machine, sc, eng).decode_tokens_per_s
    return (TP_TPOT_S - step) / model.n_layers * 1e6


def gpu_flops_frac(engines: EngineSet) -> float:
    """Share of rated BF16 FLOP/s that SGLang's prefill GEMMs reached in row sglang_96xh100_ep."""
    m = load_model("deepseek-v3")
    per_token = 2.0 * sum(v for k, v in m.read_params.items() if k not in ("mtp", "embedding"))
    per_token += m.attention_flops_per_token(SGLANG_PROMPT // 2)
    return SGLANG_PREFILL_TOK_S * per_token / (8 * H100_BF16_TFLOPS * 1e12)


DERIVE_FUNCTIONS: dict[str, Callable[[EngineSet], float]] = {
    "ggml.vulkan_bf16_moe_frac": vulkan_bf16_moe_frac,
    "vllm.tp_layer_us": tp_layer_us,
    "vllm.gpu_flops_frac": gpu_flops_frac,
}
