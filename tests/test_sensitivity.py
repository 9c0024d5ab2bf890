"""What-if analysis, cost, users at a target speed, and multi-node expert parallelism."""

from __future__ import annotations

import pytest

from harness.workload import load_model
from harness.workload.scenario import Scenario
from harness.predict import predict
from harness.workload.quant import parse_quant
from harness.perf.sensitivity import analyse, cost, max_users_at, what_to_upgrade
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
    assert cost(load_machine("8x-h200"), 20.0) is None


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
