"""'<N>bpw' on an MoE model: non-expert tensors at Q8_0, routed experts make up the average."""

from __future__ import annotations

import pytest

from harness.models import load_model
from harness.quant import parse_quant


def _average_bits(model, recipe) -> float:
    w = recipe.weight_bytes(model)
    counted = [c for c in w if c != "mtp"]
    return 8 * sum(w[c] for c in counted) / sum(model.params[c] for c in counted)


@pytest.mark.parametrize("model_id, bpw, experts", [
    # ggml-org's gpt-oss GGUFs: 4.34 / 4.63 bpw files, experts in MXFP4 (4.25 bpw)
    ("gpt-oss-120b", 4.34, 4.25),
    ("gpt-oss-20b", 4.63, 4.25),
])
def test_published_mxfp4_files_recover_the_expert_format(model_id, bpw, experts):
    m = load_model(model_id)
    r = parse_quant(f"{bpw}bpw")
    assert r.bits_for(m)["routed_experts"] == pytest.approx(experts, abs=0.05)
    assert r.bits_for(m)["attention"] == 8.5
    assert _average_bits(m, r) == pytest.approx(bpw, rel=1e-6)


def test_dense_model_and_high_average_stay_uniform():
    dense = load_model("llama-3.1-70b")
    assert set(parse_quant("4.5bpw").bits_for(dense).values()) == {4.5}
    moe = load_model("qwen3-30b-a3b")
    bits = parse_quant("16bpw").bits_for(moe)
    assert bits["routed_experts"] == pytest.approx(16.0, rel=1e-3) and bits["attention"] == 16.0


def test_named_recipes_are_unchanged_by_the_model():
    m = load_model("deepseek-v3")
    r = parse_quant("q4_k_m")
    assert r.bits_for(m) == dict(r.bits)
