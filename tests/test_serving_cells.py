"""Reading rows published elsewhere: model names of other DeepSeek families, engines without a
serving profile or none stated, unstated quants, unlabelled latency figures, llama-server slots and
hybrid deployments — each row either runs (with what it assumes said) or says why it cannot."""

from __future__ import annotations

import json

import pytest

from harness.calibration.fit_serving import _usable_cases
from harness.calibration.fitfile import default_engines
from harness.calibration.rows import model_id_for
from harness.calibration.serving_cells import _stat, engine_of, hybrid_reason, max_running, quant_of
from harness.calibration.serving_constants import case_step, default_serving_constants, fit_path, run_case
from harness.calibration.serving_rows import load_serving_cases, to_case

ROW = {"id": "x", "model": "DeepSeek-R1-0528", "quant": "FP8", "engine_and_version": "SGLang 0.5.7",
       "hardware": "8x NVIDIA H200 141GB", "parallelism": "TP8", "input_len": "1024", "output_len": "1024",
       "concurrency": "16", "request_rate": "inf", "output_tok_s_aggregate": "900", "source_group": "t"}


@pytest.mark.parametrize("name", ["DeepSeek-R1-Distill-Qwen-32B", "DeepSeek-R1-Distill-Llama-70B", "DeepSeek-V2-Lite",
                                  "DeepSeek-V2.5", "DeepSeek-Coder-V2-Instruct", "DeepSeek-VL2"])
def test_other_deepseek_families_are_not_v3(name):
    assert model_id_for(name) is None
    assert not to_case(ROW | {"model": name}).usable


@pytest.mark.parametrize("name,want", [("DeepSeek-R1-0528 (671B MoE)", "deepseek-v3"), ("deepseek_v3.1", "deepseek-v3"),
                                       ("DeepSeek-V3.2-Exp", "deepseek-v3.2"), ("Kimi K2 Instruct", "kimi-k2")])
def test_v3_family_names(name, want):
    assert model_id_for(name) == want


@pytest.mark.parametrize("cell,want", [("llama.cpp server b6000", "llama.cpp"), ("Ollama 0.6", "llama.cpp"),
                                       ("ik_llama.cpp", "ik_llama.cpp"), ("MLX-LM 0.26", "mlx"),
                                       ("NVIDIA Dynamo + TRT-LLM", "tensorrt-llm"), ("vllm==0.10.1", "vllm")])
def test_engines_named(cell, want):
    assert engine_of(cell) == (want, None)


def test_an_unprofiled_or_unstated_engine_is_assumed_and_said():
    engine, note = engine_of("LMDeploy 0.9 (TurboMind)")
    assert engine == "vllm" and "LMDeploy" in note and "assumed" in note
    assert engine_of("not stated (vendor benchmark)")[1].startswith("engine not stated")
    assert engine_of("TGI 3.0", assume=False) == (None, None)
    case = to_case(ROW | {"engine_and_version": "not stated"})
    assert case.usable and case.engine == "vllm" and case.assumptions


def test_an_unstated_quant_is_the_release_format():
    assert quant_of({"quant": "not stated"}, "deepseek-v3") == ("fp8", "quant not stated: the release's FP8 assumed")
    assert quant_of({"quant": ""}, "gpt-oss-120b")[0] == "mxfp4"
    assert quant_of({"quant": "not stated"}, "qwen3-235b-a22b")[0] == "bf16"
    assert quant_of({"quant": "not stated"}, "qwen3-235b-a22b", assume=False) == (None, None)
    assert quant_of({"quant": "FP16"}, "qwen3-30b-a3b") == ("fp16", None)
    assert quant_of({"quant": "Q8_0 GGUF", "engine_and_version": "llama.cpp"}, "qwen3-30b-a3b")[0] == "q8_0"
    assert quant_of({"quant": "a secret format"}, "deepseek-v3") == (None, None)


def test_unlabelled_latency_figures():
    assert _stat("TPOT 3.72 (mean presumed)", "TPOT") == (3.72, "mean")
    assert _stat("TPOT 12.5 ms", "TPOT") == (12.5, "median")
    assert _stat("TPOT mean 55.2 / median 54.91", "TPOT") == (54.91, "median")
    assert _stat("ITL mean 80", "TPOT") == (None, "median")
    assert _stat("TPOT ~40 at c=64", "TPOT") == (None, "median")


def test_running_limits_a_row_states():
    assert max_running("llama-server --parallel 8") == 8
    assert max_running("llama-server -np 4 -c 32768") == 4
    assert max_running("16 slots") == 16
    assert max_running("max-running-requests 37") == 37
    assert max_running("tp8") is None


def test_hybrid_rows_say_what_they_lack():
    why = hybrid_reason({"hardware": "8x NVIDIA L20 48GB + Intel Xeon Gold 6454S (CPU/GPU hybrid)"}, True)
    assert "host memory" in why and "lengths" not in why
    assert "lengths" in hybrid_reason({"engine_and_version": "KTransformers 0.2.4"}, False)
    assert hybrid_reason(ROW, True) is None
    cases = {c.id: c for c in load_serving_cases()}
    assert "host memory" in cases["KT-SGL-K2T-L20x8-c37"].why_not


def test_rows_with_assumptions_are_scored_but_never_fitted():
    fitted = set(json.loads(fit_path().read_text("utf-8"))["rows_used"])
    assumed = [c for c in load_serving_cases() if c.usable and c.assumptions]
    assert not {c.id for c in assumed} & fitted
    assert not any(c.assumptions for c in _usable_cases())


def test_a_llama_server_row_runs_on_its_profile_with_its_slots():
    row = ROW | {"model": "gpt-oss-120b", "quant": "MXFP4", "engine_and_version": "llama.cpp server (--parallel 4)",
                 "hardware": "1x NVIDIA RTX PRO 6000 Blackwell 96GB", "parallelism": "single GPU",
                 "input_len": "1024", "output_len": "256", "concurrency": "8"}
    case = to_case(row)
    assert case.usable and case.engine == "llama.cpp" and case.max_running == 4 and not case.assumptions
    sim = run_case(case, case_step(case, default_engines()), default_serving_constants())
    assert sim["completed"] == case.requests and sim["median_tpot_ms"] > 0
    # four slots for eight clients: half the requests queue for a slot, so the first token waits
    assert sim["p99_ttft_ms"] > 2 * sim["median_tpot_ms"] * 256 * 0.5


def test_check_rows_are_scored_out_of_sample_and_never_fitted():
    """A row marked ``split`` = check is read as held out, and the fit never reads one (the shipped
    file marks none today: the early-2025 H200 rows that were check rows are fitted since December 2026)."""
    assert to_case(ROW | {"split": "check"}).held_out and not to_case(ROW).held_out
    assert not any(c.held_out for c in _usable_cases())
    held = {c.id for c in load_serving_cases() if c.held_out}
    fitted = set(json.loads(fit_path().read_text("utf-8"))["rows_used"])
    assert not held & fitted


def test_a_run_without_cuda_graphs_is_not_taken_for_the_default():
    case = to_case(ROW | {"parallelism": "TP8; --disable-cuda-graph"})
    assert not case.usable and "CUDA graphs" in case.why_not
