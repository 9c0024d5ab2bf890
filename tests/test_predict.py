"""Prediction formulas against hand-computed numbers (DeepSeek-V3 on known machines)."""

from __future__ import annotations

import math

import pytest

from harness.errors import HarnessError
from harness.hardware.machine import GpuSpec, Machine
from harness.workload import load_model
from harness.workload.scenario import Scenario
from harness.predict import predict
from harness.perf.step import unique_experts
from harness.workload.quant import parse_quant

DSV3 = load_model("deepseek-v3")


def cpu_box(bw: float = 400.0, **kw) -> Machine:
    return Machine(name="box", source="test", sockets=1, cores_per_socket=32, capacity_gb=1024,
                   measured_bandwidth_gbs=bw, cpu_gflops_fp32=5000.0, **kw)


def test_unique_experts_formula():
    assert unique_experts(256, 8, 1) == pytest.approx(8.0)
    # E·(1 − (1 − k/E)^B) by hand for B=2: 256·(1 − (248/256)²) = 15.75
    assert unique_experts(256, 8, 2) == pytest.approx(256 * (1 - (248 / 256) ** 2))
    assert unique_experts(256, 8, 10_000) == pytest.approx(256.0)
    assert unique_experts(0, 0, 4) == 0.0


def test_deepseek_shape_is_671b_37b():
    assert DSV3.total_params / 1e9 == pytest.approx(671, rel=0.01)
    assert DSV3.active_total / 1e9 == pytest.approx(37, rel=0.05)


def test_ideal_cpu_decode_is_bandwidth_over_bytes():
    q = parse_quant("fp8")
    sc = Scenario(model=DSV3, quant=q, engine="ideal", placement="cpu", context=0)
    pred = predict(cpu_box(400.0), sc)
    read = sum(v for k, v in q.read_bytes(DSV3).items() if k != "mtp")
    # ~37.6B weights read at ~1 byte each: 400 GB/s / ~37.6 GB ≈ 10.6 tok/s
    assert pred.decode_tokens_per_s == pytest.approx(400e9 / read, rel=1e-6)
    assert 9.5 < pred.decode_tokens_per_s < 11.5
    assert pred.bottleneck == "host memory"
    assert pred.fits


def test_context_adds_kv_reads():
    q = parse_quant("fp8")
    short = predict(cpu_box(), Scenario(model=DSV3, quant=q, engine="ideal", placement="cpu", context=0))
    mid = predict(cpu_box(), Scenario(model=DSV3, quant=q, engine="ideal", placement="cpu", context=4096))
    kv = DSV3.kv_cache_bytes(4096, 2.0)
    # MLA: 61 layers × (512 + 64) × 2 bytes = 70,272 bytes per token
    assert DSV3.kv_bytes_per_token(2.0) == pytest.approx(61 * 576 * 2)
    assert 1 / mid.decode_tokens_per_s - 1 / short.decode_tokens_per_s == pytest.approx(kv / 400e9, rel=1e-6)


def test_long_context_mla_attention_is_compute_on_a_cpu():
    """MLA decodes in the absorbed form: 2·128·(576 + 512) FLOPs per cached position per layer, which
    at 32K positions outweighs the compressed cache's bytes on a 5 TFLOP/s CPU."""
    q = parse_quant("fp8")
    long = predict(cpu_box(), Scenario(model=DSV3, quant=q, engine="ideal", placement="cpu", context=32768))
    attn = 2 * 128 * (576 + 512) * 32768 * 61
    assert DSV3.decode_attention_flops_per_token(32768) == pytest.approx(attn)
    weights = 2 * sum(v for k, v in DSV3.read_params.items() if k not in ("mtp", "embedding"))
    assert long.bottleneck == "host compute"
    # the ideal engine reaches the CPU's full rate in mat-vecs and GEMMs alike
    assert long.time_per_token_s["host compute"] == pytest.approx((weights + attn) / 5000e9, rel=1e-6)


def test_hybrid_puts_routed_experts_on_host_rest_on_gpu():
    m = cpu_box(900.0, gpus=(GpuSpec(model="RTX 5090D", memory_gb=32, bandwidth_gbs=1792, bf16_tflops=209),))
    pred = predict(m, Scenario(model=DSV3, quant=parse_quant("fp8"), engine="ideal", placement="hybrid"))
    assert set(pred.memory["host"]) == {"routed_experts"}
    assert "attention" in pred.memory["gpu"] and "kv_cache" in pred.memory["gpu"]
    assert pred.time_per_token_s["host memory"] > pred.time_per_token_s["GPU memory"]
    assert pred.fits


def test_gpu_placement_that_does_not_fit_says_so():
    m = cpu_box(gpus=(GpuSpec(model="RTX 4090", memory_gb=24, bandwidth_gbs=1008, bf16_tflops=165),))
    pred = predict(m, Scenario(model=DSV3, quant=parse_quant("q4_k_m"), placement="gpu"))
    assert not pred.fits and pred.bottleneck == "does not fit"


def test_auto_placement_picks_hybrid_when_gpu_present():
    m = cpu_box(900.0, gpus=(GpuSpec(model="RTX 5090D", memory_gb=32, bandwidth_gbs=1792, bf16_tflops=209),))
    pred = predict(m, Scenario(model=DSV3, quant=parse_quant("fp8")))
    assert pred.placement == "hybrid"
    assert any("placement auto" in a for a in pred.assumptions)


def test_batch_raises_aggregate_and_lowers_per_user():
    q = parse_quant("q4_k_m")
    one = predict(cpu_box(), Scenario(model=DSV3, quant=q, placement="cpu", batch=1))
    eight = predict(cpu_box(), Scenario(model=DSV3, quant=q, placement="cpu", batch=8))
    assert eight.aggregate_tokens_per_s > one.aggregate_tokens_per_s
    assert eight.decode_tokens_per_s < one.decode_tokens_per_s


def test_unified_memory_gpu_uses_host_memory():
    m = Machine(name="spark", source="test", capacity_gb=128, theoretical_bandwidth_gbs=273,
                gpus=(GpuSpec(model="GB10", memory_gb=0, bandwidth_gbs=273, bf16_tflops=100, unified_memory=True),))
    pred = predict(m, Scenario(model=load_model("gpt-oss-120b"), quant=parse_quant("mxfp4"), placement="gpu"))
    assert pred.fits and pred.capacity["gpu_needed_bytes"] == 0  # counted against host memory
    assert pred.capacity["host_needed_bytes"] > 60e9
    small = Machine(name="spark", source="test", capacity_gb=32, theoretical_bandwidth_gbs=273, gpus=m.gpus)
    assert not predict(small, Scenario(model=load_model("gpt-oss-120b"), quant=parse_quant("mxfp4"), placement="gpu")).fits


def test_spec_without_measurement_says_it_estimated():
    m = Machine(name="spec", source="spec", sockets=2, cores_per_socket=32, channels=24, speed_mts=6400, capacity_gb=1152)
    pred = predict(m, Scenario(model=DSV3, quant=parse_quant("fp8"), placement="cpu"))
    assert any("not measured" in a and "1229 GB/s theoretical" in a for a in pred.assumptions)
    assert math.isfinite(pred.decode_tokens_per_s)


def test_bad_scenarios_raise_harness_error():
    with pytest.raises(HarnessError):
        predict(cpu_box(), Scenario(model=DSV3, quant=parse_quant("fp8"), placement="hybrid"))
    with pytest.raises(HarnessError):
        predict(cpu_box(), Scenario(model=DSV3, quant=parse_quant("fp8"), placement="warp"))
    with pytest.raises(HarnessError):
        predict(cpu_box(), Scenario(model=DSV3, quant=parse_quant("fp8"), batch=0))


def test_quantised_weights_use_the_int8_dot_rate_on_the_cpu():
    """llama.cpp-family CPU kernels multiply quantised weights in int8: VNNI CPUs do 4 int8 ops per FP32
    FLOP, AVX2-only ones 2; 16-bit and FP8 weights are multiplied in float."""
    from harness.perf.devices import int8_dot_ratio
    from harness.perf.step import integer_weights

    assert integer_weights(parse_quant("q4_k_m")) and integer_weights(parse_quant("4.34bpw"))
    assert not any(integer_weights(parse_quant(q)) for q in ("bf16", "fp8", "16bpw"))
    zen4 = cpu_box(cpu_model="AMD EPYC 9374F")
    zen3 = cpu_box(cpu_model="AMD EPYC 7773X")
    assert int8_dot_ratio(zen4) == 4.0 and int8_dot_ratio(zen3) == 2.0
    assert int8_dot_ratio(cpu_box(cpu_flags=("avx2", "avx512_vnni"))) == 4.0
    assert int8_dot_ratio(cpu_box(cpu_flags=("avx2",))) == 2.0
    # a compute-bound CPU box: the same Q4_K_M decode runs twice as fast with twice the int8 rate
    slow = cpu_box(20000.0, cpu_model="AMD EPYC 7773X")
    fast = cpu_box(20000.0, cpu_model="AMD EPYC 9374F")
    sc = Scenario(model=DSV3, quant=parse_quant("q4_k_m"), engine="ideal", placement="cpu", context=0)
    t_slow, t_fast = (predict(m, sc).time_per_token_s["host compute"] for m in (slow, fast))
    assert t_slow == pytest.approx(2 * t_fast)


def test_gpu_floors_shrink_with_the_gpus_rate():
    from harness.calibration.fitfile import default_engines
    from harness.perf.overheads import FLOOR_REF_TFLOPS, gpu_floor_scale

    assert gpu_floor_scale(FLOOR_REF_TFLOPS) == 1.0 and gpu_floor_scale(4 * FLOOR_REF_TFLOPS) == pytest.approx(0.5)
    assert gpu_floor_scale(None) == gpu_floor_scale(0) == 1.0
    eng = default_engines().resolve("llama.cpp")
    qwen = load_model("qwen3-30b-a3b")
    sc = Scenario(model=qwen, quant=parse_quant("q8_0"), engine="llama.cpp", placement="gpu", context=0)
    overhead = {}
    for tf in (25.0, 400.0):
        gpu = GpuSpec(model="some GPU", count=1, memory_gb=96, bandwidth_gbs=1000, bf16_tflops=tf)
        m = Machine(name="g", source="test", gpus=(gpu,))
        overhead[tf] = predict(m, sc).time_per_token_s["engine overhead"]
    base = (qwen.n_layers * eng.gpu_layer_us + qwen.n_moe_layers * eng.moe_layer_us) * 1e-6
    assert overhead[25.0] == pytest.approx(2 * base) and overhead[400.0] == pytest.approx(base / 2)


def test_sparse_attention_keeps_long_context_decode_near_short_context():
    """DeepSeek-V3.2 attends over 2048 indexed positions: on the ideal engine the 128K step costs the
    indexer's keys and FLOPs over 128K plus attention over 2048, where V3 pays attention over 128K."""
    v32 = load_model("deepseek-v3.2")
    q = parse_quant("fp8")
    box = cpu_box(bw=800.0)

    def step(model, ctx):
        return 1 / predict(box, Scenario(model=model, quant=q, engine="ideal", placement="cpu",
                                         context=ctx)).decode_tokens_per_s

    assert step(v32, 131072) < 1.5 * step(v32, 2048)
    assert step(DSV3, 131072) > 3 * step(DSV3, 2048)
    # bytes: the 2048 kept latents + every position's FP8 indexer key and scale
    reads = 61 * (576 * 2 * 2048 + 132 * 131072)
    assert v32.kv_read_bytes(131072, 2.0) == pytest.approx(reads)


def test_linear_attention_layers_keep_long_context_decode_flat():
    """Qwen3-Next: only 12 of 48 layers grow a KV cache; the 36 Gated DeltaNet layers read and write a
    fixed state. At 128K its step grows by the 12 layers' cache alone."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_models_families import QWEN3_NEXT

    from harness.workload.families import shape_from_config

    hybrid = shape_from_config(QWEN3_NEXT, "qwen3-next", "test")
    full = shape_from_config(dict(QWEN3_NEXT, layer_types=["full_attention"] * 48), "all-full", "test")
    q = parse_quant("q4_k_m")

    def step(m, ctx: int) -> float:
        return 1 / predict(cpu_box(bw=800.0), Scenario(model=m, quant=q, engine="ideal", placement="cpu",
                                                        context=ctx)).decode_tokens_per_s

    # 12 of 48 layers attend over the cache: about a quarter of the all-full-attention growth
    ratio = (step(hybrid, 131072) - step(hybrid, 1024)) / (step(full, 131072) - step(full, 1024))
    assert 0.2 < ratio < 0.3
    assert step(hybrid, 0) > sum(q.read_bytes(hybrid).values()) / 800e9  # the state is read even at context 0


def test_auto_placement_says_when_nothing_fits():
    tiny = Machine(name="tiny", source="test", sockets=1, cores_per_socket=8, capacity_gb=16,
                   measured_bandwidth_gbs=50.0, cpu_gflops_fp32=500.0)
    pred = predict(tiny, Scenario(model=DSV3, quant=parse_quant("q4_k_m")))
    assert not pred.fits and "no placement fits" in pred.assumptions[0]


def test_a_cluster_of_cpu_boxes_is_not_served_by_sglang():
    from harness.perf.engines import auto_engine
    assert auto_engine("cpu", 0, 4) == "ik_llama.cpp"
    assert auto_engine("gpu", 8, 4) == "sglang" and auto_engine("multi-node", 8, 4) == "sglang"
