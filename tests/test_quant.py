"""Quant recipes: bits per weight from block layouts, what releases really store, mixes."""

from __future__ import annotations

import pytest
from gguf import GGML_QUANT_SIZES
from gguf import GGMLQuantizationType as T

from harness.errors import HarnessError
from harness.workload import TENSOR_CLASSES, load_model
from harness.workload.quant import FORMAT_BPW, QUANT_NAMES, RECIPES, parse_quant

GB = 1e9


def test_every_named_recipe_parses_and_covers_every_class() -> None:
    assert set(QUANT_NAMES) == set(RECIPES)
    for name in QUANT_NAMES:
        recipe = parse_quant(name)
        assert recipe.name == name
        assert {c for c, _ in recipe.bits} == set(TENSOR_CLASSES)


@pytest.mark.parametrize("fmt, qtype", [
    ("q8_0", T.Q8_0), ("q6_k", T.Q6_K), ("q5_k", T.Q5_K), ("q4_k", T.Q4_K), ("q4_0", T.Q4_0),
    ("q3_k", T.Q3_K), ("q2_k", T.Q2_K), ("iq2_xxs", T.IQ2_XXS), ("iq1_s", T.IQ1_S),
    ("mxfp4", T.MXFP4), ("bf16", T.BF16), ("f32", T.F32), ("iq4_nl", T.IQ4_NL), ("iq3_s", T.IQ3_S),
    ("iq3_xxs", T.IQ3_XXS), ("iq2_s", T.IQ2_S), ("iq2_xs", T.IQ2_XS), ("iq1_m", T.IQ1_M),
])
def test_ggml_format_sizes_match_the_gguf_package(fmt: str, qtype: T) -> None:
    weights, size = GGML_QUANT_SIZES[qtype]
    assert FORMAT_BPW[fmt] == pytest.approx(8 * size / weights)


def test_fp8_keeps_embedding_head_norms_router_in_bf16() -> None:
    fp8 = parse_quant("fp8")
    assert fp8.bytes_per_param("routed_experts") == pytest.approx(1 + 4 / (128 * 128))
    for cls in ("embedding", "lm_head", "norms", "router"):
        assert fp8.bytes_per_param(cls) == 2.0


def test_deepseek_v3_fp8_matches_the_released_checkpoint() -> None:
    # deepseek-ai/DeepSeek-V3 safetensors: 688,586,727,753 bytes. The MTP layer (61) also
    # stores its own BF16 copies of embedding and head, which moebench does not count as weights.
    m = load_model("deepseek-v3")
    weights = sum(parse_quant("fp8").weight_bytes(m).values())
    copies = 2 * m.params["embedding"] * 2
    assert weights + copies == pytest.approx(688_586_727_753, rel=0.005)


def test_gpt_oss_mxfp4_matches_the_model_card_checkpoint_sizes() -> None:
    # gpt-oss model card: checkpoint 60.8 GiB (120b) and 12.8 GiB (20b); MXFP4 experts, BF16 rest.
    for model_id, gib in (("gpt-oss-120b", 60.8), ("gpt-oss-20b", 12.8)):
        size = sum(parse_quant("mxfp4").weight_bytes(load_model(model_id)).values())
        assert size / 2**30 == pytest.approx(gib, rel=0.01)


def test_q4_k_m_mix() -> None:
    q = parse_quant("q4_k_m")
    assert q.bits_per_weight("lm_head") == pytest.approx(6.5625)  # output.weight -> Q6_K
    assert q.bits_per_weight("embedding") == 4.5
    # gate/up Q4_K, down Q6_K in half the layers: (2·4.5 + (6.5625 + 4.5)/2) / 3
    assert q.bits_per_weight("routed_experts") == pytest.approx((9 + 5.53125) / 3)
    assert q.bits_per_weight("norms") == q.bits_per_weight("router") == 32.0  # kept F32
    m = load_model("deepseek-v3")
    size = sum(q.weight_bytes(m).values())
    assert 395 * GB < size < 415 * GB  # published DeepSeek-V3 Q4_K_M GGUFs: about 404 GB
    assert q.weight_bytes(m)["mtp"] == 0  # convert_hf_to_gguf drops DeepSeek's MTP layer


def test_read_bytes_at_batch_one() -> None:
    m = load_model("deepseek-v3")
    q = parse_quant("q4_k_m")
    read = q.read_bytes(m)
    assert read["routed_experts"] == pytest.approx(
        q.weight_bytes(m)["routed_experts"] * 8 / 256)
    assert read["embedding"] == pytest.approx(7168 * 4.5 / 8)
    assert read["lm_head"] == q.weight_bytes(m)["lm_head"]
    assert read["mtp"] == 0
    assert 20 * GB < sum(read.values()) < 24 * GB


def test_sizes_order_by_bits() -> None:
    m = load_model("deepseek-v3")
    sizes = [sum(parse_quant(n).weight_bytes(m).values())
             for n in ("bf16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q3_k_m", "q2_k", "iq2_xxs", "iq1_s")]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(parse_quant("int4").weight_bytes(m).values()) < sum(
        parse_quant("int8").weight_bytes(m).values())


def test_bpw_recipe_is_the_stated_average() -> None:
    m = load_model("deepseek-r1")
    size = sum(parse_quant("3.54bpw").weight_bytes(m).values())
    assert size == pytest.approx(m.total_params * 3.54 / 8)
    assert parse_quant("3.54BPW").name == "3.54bpw"


def test_mixed_recipe() -> None:
    mix = parse_quant("experts=q4_k_m,attention=q8_0")
    assert mix.bits_per_weight("routed_experts") == parse_quant("q4_k_m").bits_per_weight("routed_experts")
    assert mix.bits_per_weight("attention") == 8.5
    # unnamed classes follow the attention recipe (non-expert weights quantized alike)
    assert mix.bits_per_weight("shared_experts") == 8.5
    assert mix.bits_per_weight("lm_head") == 8.5
    base = parse_quant("q4_k_m,attn=bf16,shexp=q8_0")
    assert base.bits_per_weight("attention") == 16
    assert base.bits_per_weight("shared_experts") == 8.5
    assert base.bits_per_weight("routed_experts") == parse_quant("q4_k_m").bits_per_weight("routed_experts")
    assert parse_quant("experts=2.5bpw").bits_per_weight("routed_experts") == 2.5
    assert parse_quant("experts=2.5bpw").bits_per_weight("attention") == 16  # default bf16


@pytest.mark.parametrize("bad, needle", [
    ("q5", "unknown quant"), ("", "empty"), ("experts=q9", "unknown quant"),
    ("brains=q4_0", "unknown tensor class"), ("q4_0,q8_0", "two base"), ("100bpw", "between"),
    (",", "names no recipe"), (",,", "names no recipe"), ("3bpw@iq9_zz", "unknown storage format"),
])
def test_bad_recipes_say_what_to_use(bad: str, needle: str) -> None:
    with pytest.raises(HarnessError, match=needle):
        parse_quant(bad)


def test_unknown_class_in_bytes_per_param() -> None:
    with pytest.raises(HarnessError, match="tensor class"):
        parse_quant("bf16").bytes_per_param("vision")


def test_recipe_from_its_name_alone() -> None:
    from harness.workload.quant import QuantRecipe

    assert QuantRecipe("q4_k_m") == parse_quant("q4_k_m")
    assert QuantRecipe("experts=q2_k,attn=q8_0").bits_per_weight("attention") == 8.5


@pytest.mark.parametrize("mix", ["experts=q4_k_m,experts=q8_0", "experts=q4_k_m,routed=q8_0",
                                 "attn=q8_0,attention=bf16"])
def test_a_class_given_twice_is_refused(mix: str) -> None:
    # The last one used to win silently, so a typo in a long mix changed the costed sizes.
    with pytest.raises(HarnessError, match="twice"):
        parse_quant(mix)


@pytest.mark.parametrize("fmt, block_bytes", [
    # ik_llama.cpp ggml-common.h block structs (256 weights each), summed field by field
    ("iq2_ks", 2 + 4 + 64), ("iq2_k", 2 + 2 + 8 + 64), ("iq2_kl", 2 + 4 + 64 + 16), ("iq3_ks", 2 + 4 + 64 + 32),
    ("iq3_k", 2 + 2 + 2 + 8 + 64 + 32), ("iq4_kss", 32 * 4), ("iq4_ks", 8 + 128), ("iq4_k", 2 + 2 + 4 + 8 + 128),
    ("iq5_ks", 8 + 128 + 32), ("iq5_k", 2 + 2 + 4 + 8 + 128 + 32), ("iq6_k", 2 + 2 + 16 + 128 + 64),
])
def test_ik_llama_cpp_formats_follow_their_block_structs(fmt: str, block_bytes: int) -> None:
    assert FORMAT_BPW[fmt] == pytest.approx(8 * block_bytes / 256)
    recipe = parse_quant(fmt)  # usable as --quant, the format throughout with a Q5_K/Q6_K head
    assert recipe.bits_per_weight("routed_experts") == FORMAT_BPW[fmt]
    assert recipe.bits_per_weight("lm_head") >= FORMAT_BPW[fmt] or fmt == "iq6_k" and \
        recipe.bits_per_weight("lm_head") == FORMAT_BPW["q8_0"]
    assert not recipe.ships_mtp  # GGUF: DeepSeek's MTP layer is dropped by the converter


def test_plain_gguf_heads_and_embeddings_follow_llama_quant():
    """llama_tensor_get_type: output Q5_K for IQ1/IQ2/IQ3_XXS ftypes, Q6_K otherwise; token_embd Q2_K
    for IQ2_XS / IQ1_M, IQ3_S for IQ2_S / IQ3_XXS."""
    for fmt, head, embd in (("iq3_xxs", "q5_k", "iq3_s"), ("iq2_xs", "q5_k", "q2_k"), ("iq1_m", "q5_k", "q2_k"),
                            ("iq2_s", "q5_k", "iq3_s"), ("iq3_s", "q6_k", "iq3_s"), ("iq4_nl", "q6_k", "iq4_nl")):
        r = parse_quant(fmt)
        assert (r.bits_per_weight("lm_head"), r.bits_per_weight("embedding")) == (FORMAT_BPW[head], FORMAT_BPW[embd])
