"""Kernel-path mechanisms of the prediction: what a backend lacks, and per-engine GPU floors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.calibration.rows import load_cases, parse_quant_column
from harness.calibration.fitfile import default_engines
from harness.errors import HarnessError
from harness.hardware.machine import GpuSpec, Machine
from harness.workload import load_model
from harness.workload.scenario import Scenario
from harness.perf.step import bf16_experts, gpu_kernel_penalty
from harness.perf.overheads import gpu_floor_scale
from harness.predict import predict
from harness.perf import predict as predict_with_engines
from harness.workload.quant import parse_quant

ENGINES = default_engines()
get_engine = ENGINES.resolve
QWEN30 = load_model("qwen3-30b-a3b")


def apu() -> Machine:
    """A Ryzen AI Max-like box: the iGPU shares 256 GB/s host memory."""
    gpu = GpuSpec(model="Radeon 8060S", count=1, memory_gb=128, bandwidth_gbs=256, bf16_tflops=59,
                  unified_memory=True)
    return Machine(name="apu", source="test", sockets=1, cores_per_socket=16, capacity_gb=128,
                   theoretical_bandwidth_gbs=256, gpus=(gpu,))


def _tps(quant: str, backend: str, model=QWEN30) -> float:
    sc = Scenario(model=model, quant=parse_quant(quant), engine="llama.cpp", placement="gpu", context=0,
                  backend=backend)
    return predict(apu(), sc).decode_tokens_per_s


def test_bf16_experts_recognised_in_plain_and_mixed_recipes():
    assert bf16_experts(parse_quant("bf16"))
    assert bf16_experts(parse_quant("experts=bf16,attention=q8_0"))
    assert not bf16_experts(parse_quant("fp16"))
    assert not bf16_experts(parse_quant("q8_0"))
    assert not bf16_experts(parse_quant("experts=q4_k_m,attention=bf16"))


def test_vulkan_bf16_experts_take_the_slow_path():
    eng = get_engine("llama.cpp")
    assert eng.vulkan_bf16_moe_frac < 0.5  # derived from a published ROCm/Vulkan pair: ~3× slower
    slow, fast = _tps("bf16", "vulkan"), _tps("bf16", "rocm")
    assert slow < fast / 2
    # the same BF16 file through ROCm or an unnamed backend streams at the full rate
    assert _tps("bf16", "auto") == pytest.approx(fast)


def test_vulkan_penalty_is_limited_to_bf16_experts():
    # FP16 experts and quantized experts on Vulkan: no penalty (the device has fp16 and int-dot paths)
    assert _tps("fp16", "vulkan") == pytest.approx(_tps("fp16", "rocm"))
    assert _tps("q8_0", "vulkan") == pytest.approx(_tps("q8_0", "rocm"))
    # a dense BF16 model has no routed experts, so nothing is slowed (dense gemma-3-27b BF16 runs at
    # the same speed on Vulkan as on ROCm in the source logs)
    dense = load_model("llama-3.1-70b")
    assert _tps("bf16", "vulkan", dense) == pytest.approx(_tps("bf16", "rocm", dense))


def test_vulkan_penalty_is_stated_in_assumptions():
    sc = Scenario(model=QWEN30, quant=parse_quant("bf16"), engine="llama.cpp", placement="gpu", context=0,
                  backend="vulkan")
    pred = predict(apu(), sc)
    assert any("BF16 expert mat-vec" in a for a in pred.assumptions)
    assert pred.inputs["backend"] == "vulkan"


def test_penalty_only_for_engines_that_have_it():
    sc = Scenario(model=QWEN30, quant=parse_quant("bf16"), backend="vulkan")
    assert gpu_kernel_penalty(sc, get_engine("ideal")) == 1.0
    assert gpu_kernel_penalty(replace(sc, backend="cuda"), get_engine("llama.cpp")) == 1.0


def test_unknown_backend_is_refused():
    sc = Scenario(model=QWEN30, quant=parse_quant("bf16"), placement="gpu", backend="directx")
    with pytest.raises(HarnessError, match="backend"):
        predict(apu(), sc)


def test_calibration_rows_carry_backend_and_16bit_format():
    cases = {c.id: c for c in load_cases()}
    assert cases["strix_qwen3_30b_bf16"].backend == "vulkan"
    assert cases["strix_qwen3_30b_bf16"].quant == "bf16"  # sized BF16 file keeps its format name
    assert cases["strix_gptoss120b_rocm"].backend == "rocm"
    assert cases["m2u_gptoss20b"].backend == "metal"
    assert cases["kt_v02_ds_1s_8e"].backend == "auto"
    assert parse_quant_column({"quant": "BF16 (56.89 GiB)", "bits_per_weight_if_stated": "16"}) == "bf16"


def test_vllm_shares_the_gpu_runtime_floor():
    """Fitted on the DGX Spark rows alone vLLM's floors go to 0 (pulled by a row above the GB10's
    bandwidth roofline), which would make one fast GPU absurdly fast; they are tied to ggml's."""
    vllm, ggml = get_engine("vllm"), get_engine("llama.cpp")
    assert (vllm.gpu_layer_us, vllm.moe_layer_us) == (ggml.gpu_layer_us, ggml.moe_layer_us) != (0.0, 0.0)
    assert get_engine("sglang").gpu_layer_us == vllm.gpu_layer_us
    h200 = GpuSpec(model="H200", count=1, memory_gb=141, bandwidth_gbs=4800, bf16_tflops=989)
    one = Machine(name="h200", source="test", gpus=(h200,))
    sc = Scenario(model=load_model("gpt-oss-120b"), quant=parse_quant("mxfp4"), engine="vllm", placement="gpu",
                  context=256)
    floorless = ENGINES.replace(replace(get_engine("vllm"), gpu_layer_us=0.0, moe_layer_us=0.0))
    # the floors cost a fast GPU at least a quarter of its speed on a 5 GB/token model
    assert predict(one, sc).decode_tokens_per_s < 0.75 * predict_with_engines(one, sc, floorless).decode_tokens_per_s


def test_unsloth_dynamic_rows_keep_non_experts_below_q8():
    cases = {c.id: c for c in load_cases()}
    assert cases["strix_glm45air_q4kxl"].quant == "4.93bpw@q5_k"
    assert cases["ik_8480_maverick_iq4xs"].quant == "4.25bpw@q5_k"
    assert cases["spark_gptoss120b"].quant == "4.34bpw"  # ggml-org file: Q8_0 beside MXFP4 experts


def test_all_to_all_latency_follows_deepep_table():
    from harness.perf.multinode import all_to_all_latency_s

    assert all_to_all_latency_s(8) == pytest.approx((77 + 114) * 1e-6)
    assert all_to_all_latency_s(128) == pytest.approx((192 + 369) * 1e-6)
    # between measured sizes: between their latencies; outside: held at the nearest
    assert all_to_all_latency_s(64) < all_to_all_latency_s(96) < all_to_all_latency_s(128)
    assert all_to_all_latency_s(2) == all_to_all_latency_s(8)
    assert all_to_all_latency_s(1024) == all_to_all_latency_s(256)


def test_multi_node_step_never_beats_the_all_to_all_latency_floor():
    """A tiny batch moves almost no bytes, yet every MoE layer still waits for dispatch + combine."""
    from harness.perf.multinode import all_to_all_latency_s

    gpu = GpuSpec(model="H800", count=8, memory_gb=80, bandwidth_gbs=3350, bf16_tflops=989)
    m = Machine(name="h800", source="test", gpus=(gpu,), nodes=18, interconnect_gbs=400.0)
    dsv3 = load_model("deepseek-v3")
    pred = predict(m, Scenario(model=dsv3, quant=parse_quant("fp8"), engine="sglang", placement="multi-node",
                               batch=1))
    floor = dsv3.n_moe_layers * all_to_all_latency_s(8 * 18)
    assert sum(pred.time_per_token_s.values()) >= floor
    assert pred.time_per_token_s["interconnect"] > 0  # at batch 1 the floor, not the GPU, sets the pace


def test_prompt_and_depth_parsed_from_rows():
    from harness.calibration.rows import parse_prompt

    assert parse_prompt("tg128 / pp512") == (512, 0)
    assert parse_prompt("sweep-bench PP512/TG128 @ N_KV=0") == (512, 0)
    assert parse_prompt("prompt 7678 (8K), 300 output") == (7678, 0)
    assert parse_prompt("500 prompt / 300 output, ctx 8192") == (500, 0)
    assert parse_prompt("tg32 @ depth 32768") == (None, 32768)
    assert parse_prompt("not stated") == (None, 0)


def test_prefill_at_depth_pays_attention_over_the_cache():
    """llama-bench 'pp2048 @ d32768': every prompt token attends over the 32K cached tokens too."""
    gptoss = load_model("gpt-oss-120b")
    sc = Scenario(model=gptoss, quant=parse_quant("mxfp4"), engine="llama.cpp", placement="gpu", prompt=2048)
    shallow = predict(apu(), sc).prefill_tokens_per_s
    deep = predict(apu(), replace(sc, prefill_depth=32768)).prefill_tokens_per_s
    assert deep < 0.8 * shallow
    # decode is unaffected by where the prompt was processed
    assert predict(apu(), replace(sc, prefill_depth=32768)).decode_tokens_per_s == pytest.approx(
        predict(apu(), sc).decode_tokens_per_s)
    with pytest.raises(HarnessError):
        predict(apu(), replace(sc, prefill_depth=-1))


def test_stated_per_class_mix_is_used_instead_of_an_average():
    """'custom: experts IQ4_XS, attn Q5_K, output Q6_K (~4.4 bpw est.)' is a layout, not just a size."""
    row = {"quant": "custom: experts IQ4_XS, attn Q5_K, output Q6_K (~4.4 bpw est.)",
           "bits_per_weight_if_stated": ""}
    assert parse_quant_column(row) == "experts=iq4_xs,attention=q5_k_m,lm_head=q6_k"
    q = parse_quant(parse_quant_column(row))
    assert q.bits_per_weight("routed_experts") == pytest.approx(4.25)
    assert q.bits_per_weight("attention") == pytest.approx(5.5)
    assert q.bits_per_weight("lm_head") == pytest.approx(6.5625)
    # an expert format the recipes do not know falls back to the stated average, spread with the
    # attention level the label does state
    odd = {"quant": "custom: experts IQ3_KT, attn Q5_K (~3.5 bpw)", "bits_per_weight_if_stated": ""}
    assert parse_quant_column(odd) == "3.5bpw@q5_k"
    unknown = {"quant": "custom: experts IQ3_KT, attn Q7_X (~3.5 bpw)", "bits_per_weight_if_stated": ""}
    assert parse_quant_column(unknown) == "3.5bpw"


def test_ik_mix_label_keeps_its_stated_attention_format():
    """ubergarm's ik_llama.cpp mixes: an average size plus 'attn/shexp iq5_ks/iq4_ks' — the non-expert
    tensors are 5.25 bpw, not the Q8_0 assumed when a label says nothing."""
    row = {"quant": "ubergarm IQ2_KL mix (routed exps iq2_kl up/gate + iq3_ks down; attn/shexp "
                    "iq5_ks/iq4_ks), 345.687 GiB", "bits_per_weight_if_stated": "2.892"}
    assert parse_quant_column(row) == "2.892bpw@iq5_ks"
    kimi = load_model("kimi-k2")
    bits = parse_quant("2.892bpw@iq5_ks").bits_for(kimi)
    assert bits["attention"] == pytest.approx(5.25)
    # the file size still adds up: the routed experts take what the kept tensors leave
    total = sum(kimi.params[c] * bits[c] for c in kimi.params if c != "mtp")
    assert total / sum(kimi.params[c] for c in kimi.params if c != "mtp") == pytest.approx(2.892, rel=1e-6)
    assert 2.6 < bits["routed_experts"] < 2.9  # iq2_kl (2.69) with iq3_ks (3.19) down


def test_a_build_that_quantises_more_than_the_release_is_scored_as_it_runs():
    """The community vllm-node-mxfp4 build serves gpt-oss with --mxfp4-layers moe,qkv,o,lm_head:
    its row reads 'MXFP4 (native)' but attention and head run in MXFP4 too."""
    row = {"quant": "MXFP4 (native)", "engine": "vLLM (vllm-node-mxfp4 container, CUTLASS+FlashInfer)",
           "bits_per_weight_if_stated": "4.25"}
    assert parse_quant_column(row) == "mxfp4_all"
    ngc = dict(row, engine="vLLM 0.15.1 (nvcr.io/nvidia/vllm:26.02-py3)")
    assert parse_quant_column(ngc) == "mxfp4"
    m = load_model("gpt-oss-120b")
    full, release = parse_quant("mxfp4_all"), parse_quant("mxfp4")
    assert full.bits_per_weight("attention") == release.bits_per_weight("routed_experts") == pytest.approx(4.25)
    assert sum(full.read_bytes(m).values()) < 0.6 * sum(release.read_bytes(m).values())


def test_iq4_xs_block_layout():
    from harness.workload.quant import FORMAT_BPW

    # block_iq4_xs: fp16 d + uint16 scales_h + 4 B scales_l + 128 B of 4-bit indices per 256 weights
    assert FORMAT_BPW["iq4_xs"] == pytest.approx((2 + 2 + 4 + 128) * 8 / 256)
    assert parse_quant("iq4_xs").bits_per_weight("lm_head") == pytest.approx(6.5625)


def test_tensor_parallel_layer_floor_on_multi_gpu_nodes():
    """One DeepSeek user on a TP8 node: 62 tok/s published for vLLM on 8x H100 (AWQ, concurrency 1,
    July 2025), between SGLang v0.4.1's 30 tok/s on 8x H200 (January 2025) and SGLang v0.5.7's 78 at
    8 users (March 2026), not the ~700 tok/s that 8 GPUs' bandwidth alone would allow."""
    from harness.documents.machines import load_machine

    dsv3 = load_model("deepseek-v3")
    node = load_machine("8x-h200")
    h100 = replace(node, gpus=(replace(node.gpus[0], model="H100 SXM", memory_gb=80, bandwidth_gbs=3350,
                                       bf16_tflops=989.4),))
    awq = predict(h100, Scenario(model=dsv3, quant=parse_quant("int4"), engine="vllm", placement="gpu", context=256))
    assert 62.11 / 1.2 < awq.decode_tokens_per_s < 62.11 * 1.2
    sc = Scenario(model=dsv3, quant=parse_quant("fp8"), engine="vllm", placement="gpu", context=256)
    pred = predict(node, sc)
    assert 30.29 < pred.decode_tokens_per_s < 1 / 12.8e-3
    assert any("tensor parallel over 8 GPUs" in a for a in pred.assumptions)
    # one GPU of the same kind pays no collective floor
    one = replace(node, gpus=(replace(node.gpus[0], count=1),))
    qwen = Scenario(model=QWEN30, quant=parse_quant("fp8"), engine="vllm", placement="gpu", context=256)
    one_pred = predict(one, qwen)
    assert not any("tensor parallel" in a for a in one_pred.assumptions)
    eng = get_engine("vllm")
    scale = gpu_floor_scale(node.gpus[0].bf16_tflops)  # H200: the floors of a faster GPU are shorter
    floor = (QWEN30.n_layers * eng.gpu_layer_us + QWEN30.n_moe_layers * eng.moe_layer_us) * scale * 1e-6
    assert one_pred.time_per_token_s["engine overhead"] == pytest.approx(floor)
    dsv3_floor = ((dsv3.n_layers * eng.gpu_layer_us + dsv3.n_moe_layers * eng.moe_layer_us) * scale
                  + dsv3.n_layers * eng.tp_layer_us) * 1e-6
    assert pred.time_per_token_s["engine overhead"] == pytest.approx(dsv3_floor)
    # llama.cpp splits layers across GPUs (they take turns): no tensor-parallel floor either
    split = predict(node, replace(sc, engine="llama.cpp"))
    assert not any("tensor parallel" in a for a in split.assumptions)


def test_tensor_parallel_size_is_the_fastest_split_that_fits():
    from harness.perf.placement import tensor_parallel_size
    from harness.documents.machines import load_machine

    node = load_machine("8x-h200")  # 8 × 141 GB
    dsv3 = Scenario(model=load_model("deepseek-v3"), quant=parse_quant("fp8"), engine="vllm", placement="gpu")
    gptoss = Scenario(model=load_model("gpt-oss-120b"), quant=parse_quant("mxfp4"), engine="vllm", placement="gpu")
    assert tensor_parallel_size(node, dsv3, get_engine("vllm")) == 8  # 671 GB needs 5+ GPUs: 8
    assert tensor_parallel_size(node, gptoss, get_engine("vllm")) == 1  # 65 GB fits one H200
    pred = predict(node, gptoss)
    assert any("tensor parallel over 1 of the 8 GPUs" in a for a in pred.assumptions)
    # layer-split engines and single GPUs keep every GPU they are given
    assert tensor_parallel_size(node, gptoss, get_engine("llama.cpp")) == 8
    # without the collective floor, more GPUs only add bandwidth: the whole node wins
    free = replace(get_engine("vllm"), tp_layer_us=0.0)
    assert tensor_parallel_size(node, gptoss, free) == 8


def test_ktransformers_hides_shared_experts_behind_the_cpu():
    """KTransformers submits the routed experts to the CPU and runs the shared ones on the GPU
    meanwhile; without that overlap the step is longer by the shared experts' GPU time."""
    from harness.documents.machines import load_machine

    box = load_machine("epyc9355-rtx5090d")
    dsv3 = load_model("deepseek-v3")
    sc = Scenario(model=dsv3, quant=parse_quant("fp8"), engine="ktransformers", placement="hybrid", context=0)
    kt = get_engine("ktransformers")
    assert kt.overlaps_shared_experts and not get_engine("llama.cpp").overlaps_shared_experts
    with_overlap = predict(box, sc)
    serial = predict_with_engines(box, sc, ENGINES.replace(replace(kt, overlaps_shared_experts=False)))
    shared_bytes = parse_quant("fp8").read_bytes(dsv3)["shared_experts"]
    gpu_bw = box.gpus[0].bandwidth_gbs * 1e9 * kt.gpu_bw_frac
    saved = sum(serial.time_per_token_s.values()) - sum(with_overlap.time_per_token_s.values())
    assert saved == pytest.approx(shared_bytes / gpu_bw, rel=1e-6)


def test_vulkan_bf16_share_is_the_one_derived_from_the_published_pair():
    """The fit file holds what the fitter derives from the ROCm/Vulkan pair (not a fit)."""
    from harness.calibration.derive import vulkan_bf16_moe_frac

    assert vulkan_bf16_moe_frac(ENGINES) == pytest.approx(ENGINES["llama.cpp"].vulkan_bf16_moe_frac, abs=0.005)


def test_bf16_experts_follow_the_recipe_that_supplies_them():
    from harness.perf.step import bf16_experts

    for text, expected in (("bf16", True), ("bf16,attention=q8_0", True), ("attention=bf16", True),
                           ("q8_0,experts=bf16", True), ("fp16", False), ("experts=q4_k_m", False),
                           ("bf16,experts=q8_0", False), ("4.9bpw", False)):
        assert bf16_experts(parse_quant(text)) is expected, text


def test_vulkan_note_only_where_experts_are_on_the_gpu():
    from harness.documents.machines import load_machine

    machine = load_machine("xeon6454s-rtx4090")
    model = load_model("qwen3-30b-a3b")
    base = Scenario(model=model, quant=parse_quant("bf16"), engine="llama.cpp", placement="hybrid",
                    gpu_expert_layers=0)  # every routed expert in host RAM
    vk = predict(machine, replace(base, backend="vulkan"))
    rocm = predict(machine, replace(base, backend="rocm"))
    assert vk.decode_tokens_per_s == pytest.approx(rocm.decode_tokens_per_s)
    assert not any("vulkan backend" in a for a in vk.assumptions)
    # with some layers' experts on the GPU (partial offload) the slow path applies to those, and is said
    part = replace(base, gpu_expert_layers=8)
    vk8, rocm8 = predict(machine, replace(part, backend="vulkan")), predict(machine, replace(part, backend="rocm"))
    assert vk8.decode_tokens_per_s < rocm8.decode_tokens_per_s
    assert any("vulkan backend" in a for a in vk8.assumptions)


def test_a_model_that_fits_the_gpus_runs_on_them():
    """KTransformers' GPU side pays the same CUDA per-layer floors as the GPU engines, so an
    8-GPU node does not send a model that fits its GPUs to CPU-expert offload."""
    from harness.documents.machines import load_machine

    for model in ("gpt-oss-120b", "qwen3-30b-a3b", "qwen3-235b-a22b"):
        sc = Scenario(model=load_model(model), quant=parse_quant("fp8"))
        pred = predict(load_machine("8x-h200"), sc)
        hybrid = predict(load_machine("8x-h200"), replace(sc, placement="hybrid"))
        assert pred.placement == "gpu", model
        assert hybrid.decode_tokens_per_s < 1.5 * pred.decode_tokens_per_s, model


@pytest.mark.parametrize("label, total, expected", [
    ("UD-Q4_K_XL", "", "q4_k_m"),  # Unsloth dynamic: experts in the named k-quant
    ("Q4_K_S", "", "q4_k_m"), ("Q3_K_L", "", "q3_k_m"),
    ("AWQ (4-bit)", "", "int4"), ("GPTQ-Int4", "", "int4"), ("W8A8", "", "int8"),
    ("NVFP4 (nvidia/Llama-3.3-70B-Instruct-NVFP4)", "", "nvfp4"),
    ("UD-Q2_K_XL (212GB)", "671", "2.53bpw@q5_k"),  # a stated file size beats the name
    ("Q4_K_M GGUF, 59.02 GiB", "116.83", "4.34bpw"),
])
def test_quant_labels_published_rows_use(label, total, expected):
    row = {"quant": label, "bits_per_weight_if_stated": "", "total_params_B": total}
    assert parse_quant_column(row) == expected


def test_nvfp4_keeps_head_and_embedding_in_bf16():
    q = parse_quant("nvfp4")
    assert q.bits_per_weight("routed_experts") == q.bits_per_weight("attention") == 4.5  # e2m1 + e4m3 per 16
    assert q.bits_per_weight("lm_head") == q.bits_per_weight("embedding") == 16.0


def test_ggml_front_ends_are_scored_as_llama_cpp():
    from harness.calibration.rows import _ENGINES, _lookup
    for text in ("Ollama 0.12.3 (CUDA)", "llamafile 0.9", "KoboldCpp 1.80"):
        assert _lookup(text, _ENGINES) == "llama.cpp"
    assert _lookup("TensorRT-LLM 1.0", _ENGINES) is None  # no profile: skipped with the reason


def test_mxfp4_under_a_ggml_engine_is_the_gguf_layout():
    """gpt-oss's MXFP4 GGUF keeps every tensor but the routed experts in Q8_0 (4.33 / 4.62 bpw against the
    published 4.34 / 4.63); the release that vLLM runs keeps them in BF16."""
    gguf = {"quant": "MXFP4", "engine": "ik_llama.cpp (main)", "bits_per_weight_if_stated": ""}
    assert parse_quant_column(gguf) == "q8_0,experts=mxfp4"
    assert parse_quant_column(dict(gguf, engine="vLLM 0.11")) == "mxfp4"
    assert parse_quant_column(dict(gguf, bits_per_weight_if_stated="4.34")) == "4.34bpw"  # a size wins
    for model_id, published in (("gpt-oss-120b", 4.34), ("gpt-oss-20b", 4.63)):
        m = load_model(model_id)
        size = sum(parse_quant("q8_0,experts=mxfp4").weight_bytes(m).values())
        assert size * 8 / m.total_params == pytest.approx(published, abs=0.02)


def test_tensor_parallel_floor_scales_with_ring_all_reduce_steps():
    """Anchored at 8 GPUs (vLLM DeepSeek-R1 on 8x H100), the floor grows with tp - 1, the steps of a
    ring all-reduce (how the held-out TP 2 / TP 4 rows score is reported by validate, not asserted)."""
    from harness.perf.overheads import TP_REF, tp_floor_us

    vllm = get_engine("vllm")
    assert tp_floor_us(vllm, 1) == 0.0 and tp_floor_us(vllm, TP_REF) == vllm.tp_layer_us
    assert tp_floor_us(vllm, 2) == pytest.approx(vllm.tp_layer_us / 7)
    assert tp_floor_us(vllm, 4) == pytest.approx(3 * vllm.tp_layer_us / 7)
