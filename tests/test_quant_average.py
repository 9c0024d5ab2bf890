"""'<N>bpw' on an MoE model: non-expert tensors at Q8_0, routed experts make up the average."""

from __future__ import annotations

import pytest

from harness.workload import load_model
from harness.workload.quant import parse_quant


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


def test_keep_format_after_at_sets_the_non_expert_level():
    """'<N>bpw@<format>': the non-expert tensors at that format (Unsloth's UD- files keep them at
    4–6 bit), the routed experts still make up the stated average."""
    m = load_model("glm-4.5-air")
    q8, ud = parse_quant("4.93bpw"), parse_quant("4.93bpw@q5_k")
    assert ud.name == "4.93bpw@q5_k"
    assert ud.bits_for(m)["attention"] == 5.5 and q8.bits_for(m)["attention"] == 8.5
    assert _average_bits(m, ud) == pytest.approx(4.93, rel=1e-6)
    # fewer bits in the tensors read every token: fewer bytes per token than the Q8_0 reading
    assert sum(ud.read_bytes(m).values()) < sum(q8.read_bytes(m).values())
    # an average above the keep format stays at the average (never rounds non-experts down)
    assert parse_quant("9.2bpw@q5_k").bits_for(m)["attention"] == pytest.approx(9.2)


def test_keep_format_must_be_known():
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="storage format"):
        parse_quant("4.93bpw@q9_z")


def test_recipe_built_from_its_name_keeps_average_and_keep():
    from harness.workload.quant import QuantRecipe

    r = QuantRecipe("4.93bpw@q5_k")
    assert r.average == 4.93 and r.keep == 5.5
