"""What-if analysis, cost, users at a target speed, and multi-node expert parallelism."""

from __future__ import annotations

import pytest

from harness.workload import load_model
from harness.workload.scenario import Scenario
from harness.predict import predict
from harness.workload.quant import parse_quant
from dataclasses import replace

from harness.perf.placement import tensor_parallel_size
from harness.perf.sensitivity import analyse, copies, cost, max_users_at, what_to_upgrade
from harness.documents.machines import load_machine
from harness.calibration.fitfile import default_engines

ENGINES = default_engines()

DSV3 = load_model("deepseek-v3")


def test_more_bandwidth_helps_a_bandwidth_bound_cpu_box():
    m = load_machine("xeon6454s-rtx4090")
    sc = Scenario(model=DSV3, quant=parse_quant("q4_k_m"), placement="cpu", engine="ik_llama.cpp")
    rows = {r["change"]: r for r in what_to_upgrade(m, sc, ENGINES)}
    bw = rows["+10% host memory bandwidth"]
    assert 0 < bw["gain_pct"] <= 10.0 + 1e-9
    pcie = [r for k, r in rows.items() if k.startswith("PCIe")]
    assert pcie and pcie[0]["gain_pct"] == pytest.approx(0.0)  # decode moves no weights over PCIe


def test_max_users_is_monotone_in_target():
    m = load_machine("8x-h200")
    sc = Scenario(model=DSV3, quant=parse_quant("fp8"), placement="gpu")
    # targets around the ~30 tok/s a TP8 H200 node gives one DeepSeek-V3 user (SGLang's published
    # batch-1 figure, harness.perf.engines._TP_LAYER_US)
    fast = max_users_at(m, sc, ENGINES, 25.0)["max_users"]
    slow = max_users_at(m, sc, ENGINES, 10.0)["max_users"]
    assert slow >= fast >= 1
    # at the limit the per-user speed still meets the target
    assert predict(m, Scenario(model=DSV3, quant=parse_quant("fp8"), placement="gpu", batch=fast)).decode_tokens_per_s >= 25.0


def test_cost_needs_a_price():
    m = load_machine("epyc9355-rtx5090d")
    c = cost(m, 20.0)
    # 149000 CNY over 3 years at 20 tok/s: 149000 / (20 × 3 × 365 × 86400 / 1e6)
    assert c["cost_per_million_tokens"] == pytest.approx(149000 / (20 * 3 * 365 * 86400 / 1e6))
    assert c["tokens_per_s_per_10k"] == pytest.approx(20 / 14.9)
    assert cost(replace(load_machine("8x-h200"), price=None), 20.0) is None


def test_fleet_economics_count_every_copy_and_every_node():
    """N replicas cost N× and serve N×: a cluster of four appliances as replicas costs four prices
    and generates four times; a node of two TP4 replicas counts both."""
    one = load_machine("epyc9355-rtx5090d")
    four = replace(one, nodes=4)
    sc = Scenario(model=DSV3, quant=parse_quant("q4_k_m"))
    assert copies(four, sc, ENGINES, "hybrid", "ktransformers") == 4
    assert any("serve as replicas behind a load balancer" in a for a in predict(four, sc).assumptions)
    c1, c4 = cost(one, 20.0), cost(four, 20.0, 4)
    assert c4["price"] == 4 * c1["price"]
    assert c4["cost_per_million_tokens"] == pytest.approx(c1["cost_per_million_tokens"])
    h200 = load_machine("8x-h200")
    int4 = Scenario(model=DSV3, quant=parse_quant("int4"))
    n = copies(h200, int4, ENGINES, "gpu", "vllm")
    assert n == 8 // tensor_parallel_size(h200, int4, ENGINES.resolve("vllm"))
    assert cost(h200, 100.0, n)["cost_per_million_tokens"] == pytest.approx(cost(h200, 100.0)["cost_per_million_tokens"] / n)


def test_analyse_has_all_parts():
    m = load_machine("epyc9355-rtx5090d")
    out = analyse(m, Scenario(model=DSV3, quant=parse_quant("fp8")), ENGINES)
    assert out["upgrades"] and out["cost"] and out["users_at_target"]["target_tokens_per_s"] == 20.0


def test_multi_node_expert_parallel_fits_and_scales():
    m = load_machine("h800-cluster")
    one = predict(m, Scenario(model=DSV3, quant=parse_quant("fp8"), placement="multi-node", batch=1))
    big = predict(m, Scenario(model=DSV3, quant=parse_quant("fp8"), placement="multi-node", batch=4096, context=4989))
    assert one.fits and big.fits  # 671B spread over 144 GPUs
    assert big.aggregate_tokens_per_s > 100 * one.aggregate_tokens_per_s
    assert "interconnect" in big.time_per_token_s
    assert any("all-to-all" in a for a in big.assumptions)


def test_auto_never_switches_silently_to_a_far_slower_placement():
    """8x H20 at 400 users of 4k context: vLLM's KV cache is full, and the hybrid placement that fits
    is two orders of magnitude slower per user — auto keeps the GPU placement, says it does not fit,
    and says how many users do."""
    m = load_machine("8x-h20")
    sc = Scenario(model=DSV3, quant=parse_quant("fp8"), context=4096, batch=400)
    p = predict(m, sc)
    assert p.placement == "gpu" and not p.fits
    note = p.assumptions[0]
    held = int(note.split(" holds ")[1].split()[0])
    assert 1 <= held < 400 and "does not switch" in note
    assert predict(m, replace(sc, batch=held)).fits and not predict(m, replace(sc, batch=held + 1)).fits
    hybrid = predict(m, replace(sc, placement="hybrid"))
    assert hybrid.fits and hybrid.decode_tokens_per_s * 10 < predict(m, replace(sc, batch=1)).decode_tokens_per_s
