"""Family readers beyond the catalog: config variants and one-line errors.

The small configs below carry only the shape keys of the named models' config.json files;
expected totals are those models' published figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.workload import load_model
from harness.workload.families import shape_from_config

DEEPSEEK_V2_LITE = dict(
    model_type="deepseek_v2", hidden_size=2048, num_hidden_layers=27, n_routed_experts=64,
    num_experts_per_tok=6, n_shared_experts=2, moe_intermediate_size=1408,
    intermediate_size=10944, first_k_dense_replace=1, moe_layer_freq=1, kv_lora_rank=512,
    q_lora_rank=None, num_attention_heads=16, num_key_value_heads=16, vocab_size=102400,
    qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, topk_method="greedy")
QWEN15_MOE = dict(  # Qwen1.5-MoE-A2.7B: 14.3B total, 2.7B activated (card)
    model_type="qwen2_moe", hidden_size=2048, num_hidden_layers=24, num_experts=60,
    num_experts_per_tok=4, moe_intermediate_size=1408, shared_expert_intermediate_size=5632,
    intermediate_size=5632, num_attention_heads=16, num_key_value_heads=16, vocab_size=151936,
    decoder_sparse_step=1, mlp_only_layers=[])
OLMOE = dict(  # OLMoE-1B-7B-0924: 6.9B total, 1.3B active (paper)
    model_type="olmoe", hidden_size=2048, num_hidden_layers=16, num_experts=64,
    num_experts_per_tok=8, intermediate_size=1024, num_attention_heads=16,
    num_key_value_heads=16, vocab_size=50304, tie_word_embeddings=False)
QWEN25_05B = dict(  # Qwen2.5-0.5B: 0.49B, tied embeddings
    model_type="qwen2", hidden_size=896, num_hidden_layers=24, intermediate_size=4864,
    num_attention_heads=14, num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True)
MISTRAL_7B = dict(  # Mistral-7B-v0.1: 7.24B, sliding window 4096 on every layer
    model_type="mistral", hidden_size=4096, num_hidden_layers=32, intermediate_size=14336,
    num_attention_heads=32, num_key_value_heads=8, vocab_size=32000, sliding_window=4096)


def shape(cfg: dict[str, Any], **changes: Any):
    return shape_from_config({**cfg, **changes}, "test", "test")


def test_deepseek_v2_lite_without_q_lora() -> None:
    # DeepSeek-V2 card: V2-Lite 15.7B total, 2.4B activated (activated without embedding).
    m = shape(DEEPSEEK_V2_LITE)
    assert m.total_params == pytest.approx(15.7e9, rel=0.01)
    assert m.active_total - m.active_params["embedding"] == pytest.approx(2.4e9, rel=0.05)
    assert m.params["router"] == 26 * 64 * 2048  # greedy top-k: no score-correction bias
    assert m.n_shared_experts == 2 and m.n_dense_layers == 1


def test_q_lora_changes_the_query_projection() -> None:
    lora = shape(DEEPSEEK_V2_LITE, q_lora_rank=1536)
    full = shape(DEEPSEEK_V2_LITE)
    d, q_out = 2048, 16 * 192
    assert full.params["attention"] - lora.params["attention"] == 27 * (
        d * q_out - (d * 1536 + 1536 * q_out))


def test_moe_layer_freq_and_first_k_dense() -> None:
    m = shape(DEEPSEEK_V2_LITE, first_k_dense_replace=3, moe_layer_freq=2)
    assert m.n_moe_layers == len([i for i in range(27) if i >= 3 and i % 2 == 0])


def test_qwen2_moe_shared_expert_and_gate() -> None:
    m = shape(QWEN15_MOE)
    assert m.total_params == pytest.approx(14.3e9, rel=0.01)
    assert m.active_total == pytest.approx(2.7e9, rel=0.05)
    assert m.params["shared_experts"] == 24 * (3 * 2048 * 5632 + 2048)  # + sigmoid gate d -> 1
    # q/k/v biases, no o bias
    assert m.params["attention"] == 24 * (4 * 2048 * 2048 + 3 * 2048)


def test_decoder_sparse_step_and_mlp_only_layers() -> None:
    m = shape(QWEN15_MOE, decoder_sparse_step=2, mlp_only_layers=[1])
    moe = [i for i in range(24) if i != 1 and (i + 1) % 2 == 0]
    assert m.n_moe_layers == len(moe) and m.n_dense_layers == 24 - len(moe)
    assert m.params["dense_mlp"] == m.n_dense_layers * 3 * 2048 * 5632


def test_olmoe() -> None:
    m = shape(OLMOE)
    assert m.total_params == pytest.approx(6.9e9, rel=0.01)
    assert m.active_total == pytest.approx(1.3e9, rel=0.05)


def test_tied_embeddings_count_once_but_the_head_is_still_read() -> None:
    m = shape(QWEN25_05B)
    assert m.total_params == pytest.approx(0.494e9, rel=0.01)
    assert m.params["lm_head"] == 0
    assert m.read_params["lm_head"] == 151936 * 896
    assert m.read_params["embedding"] == 896


def test_dense_llama_mlp_bias() -> None:
    base = dict(MISTRAL_7B, model_type="llama", sliding_window=None)
    assert shape(base, mlp_bias=True).params["dense_mlp"] - shape(base).params["dense_mlp"] == \
        32 * (2 * 14336 + 4096)
    biased = shape(base, attention_bias=True).params["attention"] - shape(base).params["attention"]
    assert biased == 32 * (4096 + 2 * 1024 + 4096)


def test_mistral_sliding_window_on_every_layer() -> None:
    m = shape(MISTRAL_7B)
    assert m.total_params == pytest.approx(7.24e9, rel=0.01)
    assert (m.sliding_window, m.n_sliding_layers) == (4096, 32)
    assert m.kv_cache_bytes(32_000) == m.kv_cache_bytes(4096)


def test_qwen_sliding_window_off_unless_enabled() -> None:
    cfg = dict(QWEN25_05B, sliding_window=4096, max_window_layers=21)
    assert shape(cfg, use_sliding_window=False).n_sliding_layers == 0
    assert shape(cfg, use_sliding_window=True).n_sliding_layers == 3


@pytest.mark.parametrize("missing", ["hidden_size", "num_hidden_layers", "kv_lora_rank",
                                     "moe_intermediate_size", "vocab_size"])
def test_missing_field_is_named(missing: str) -> None:
    cfg = {k: v for k, v in DEEPSEEK_V2_LITE.items() if k != missing}
    with pytest.raises(HarnessError, match=missing):
        shape(cfg)


@pytest.mark.parametrize("changes, field", [
    ({"num_experts_per_tok": 99}, "num_experts_per_tok"),
    ({"num_key_value_heads": 5}, "num_key_value_heads"),
    ({"hidden_size": -1}, "hidden_size"),
    ({"mlp_only_layers": [40]}, "mlp_only_layers"),
])
def test_contradictory_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(HarnessError, match=field):
        shape(QWEN15_MOE, **changes)


def test_layer_types_must_cover_every_layer() -> None:
    cfg = dict(model_type="gpt_oss", hidden_size=64, num_hidden_layers=4, num_local_experts=4,
               num_experts_per_tok=2, intermediate_size=64, num_attention_heads=4,
               num_key_value_heads=2, head_dim=16, vocab_size=100, sliding_window=8,
               layer_types=["sliding_attention", "full_attention"], attention_bias=True)
    with pytest.raises(HarnessError, match="layer_types"):
        shape(cfg)


def test_unknown_family_lists_supported_ones() -> None:
    with pytest.raises(HarnessError, match="deepseek_v3.*"):
        shape({"model_type": "mamba", "hidden_size": 1})


def test_config_paths_truncated_and_folders(tmp_path: Path) -> None:
    cfg = tmp_path / "my-model" / "config.json"
    cfg.parent.mkdir()
    cfg.write_text(json.dumps(OLMOE))
    assert load_model(str(cfg)).id == "my-model"
    assert load_model(str(cfg.parent)).total_params == shape(OLMOE).total_params
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps(OLMOE)[:-40])
    with pytest.raises(HarnessError, match="truncated"):
        load_model(str(bad))
    with pytest.raises(HarnessError, match="no such file"):
        load_model(str(tmp_path / "nothing.json"))
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(HarnessError, match="not an object"):
        load_model(str(tmp_path / "list.json"))


def test_mla_attention_bias() -> None:
    # modeling_deepseek: attention_bias adds biases to q_a_proj (or q_proj), kv_a_proj_with_mqa
    # and o_proj.
    plain, biased = shape(DEEPSEEK_V2_LITE), shape(DEEPSEEK_V2_LITE, attention_bias=True)
    assert biased.params["attention"] - plain.params["attention"] == 27 * (
        16 * 192 + 512 + 64 + 2048)


def test_multimodal_wrapper_around_a_known_text_model() -> None:
    wrapped = {"model_type": "some_vl_wrapper", "text_config": dict(OLMOE)}
    assert shape(wrapped).total_params == shape(OLMOE).total_params
    with pytest.raises(HarnessError, match="model_type"):
        shape({"hidden_size": 8})


MIXTRAL_SMALL = dict(  # Mixtral-8x7B's shape keys
    model_type="mixtral", hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
    num_attention_heads=32, num_key_value_heads=8, num_local_experts=8, num_experts_per_tok=2,
    vocab_size=32000)


@pytest.mark.parametrize("field, value, expected", [
    ("num_local_experts", 0, "from 1 to"),  # the MoE keys say 2 per token: zero experts is a typo
    ("hidden_size", 0, "from 1 to"),
    ("hidden_size", 10**40, "from 1 to 1048576"),
    ("num_hidden_layers", 0, "from 1 to"),
    ("vocab_size", 2**40, "from 1 to"),
    ("num_key_value_heads", float("nan"), "integer"),
    ("num_key_value_heads", {}, "integer"),
    ("num_key_value_heads", "8", "integer"),
    ("num_key_value_heads", 0, "from 1 to"),
    ("head_dim", 1.5, "integer"),
    ("sliding_window", "4k", "integer"),
])
def test_field_out_of_range_is_named_with_its_range(field: str, value: Any, expected: str) -> None:
    with pytest.raises(HarnessError, match=f"'{field}'.*{expected}"):
        shape(MIXTRAL_SMALL, **{field: value})


@pytest.mark.parametrize("cfg, changes, field", [
    (DEEPSEEK_V2_LITE, {"moe_layer_freq": 0}, "moe_layer_freq"),  # was a ZeroDivisionError
    (DEEPSEEK_V2_LITE, {"first_k_dense_replace": float("nan")}, "first_k_dense_replace"),
    (DEEPSEEK_V2_LITE, {"q_lora_rank": "big"}, "q_lora_rank"),
    (DEEPSEEK_V2_LITE, {"n_routed_experts": 0}, "experts"),  # 6 per token of none
    (QWEN15_MOE, {"mlp_only_layers": 3}, "mlp_only_layers"),
    (QWEN15_MOE, {"mlp_only_layers": ["0"]}, "mlp_only_layers"),
    (QWEN15_MOE, {"decoder_sparse_step": [1]}, "decoder_sparse_step"),
    (MISTRAL_7B, {"layer_types": 5}, "layer_types"),
])
def test_bad_optional_fields_are_named(cfg: dict[str, Any], changes: dict[str, Any],
                                       field: str) -> None:
    with pytest.raises(HarnessError, match=field):
        shape(cfg, **changes)


def test_deepseek_without_routed_experts_is_dense() -> None:
    dense = shape(DEEPSEEK_V2_LITE, n_routed_experts=None, num_experts_per_tok=None)
    assert dense.n_moe_layers == 0 and dense.params["routed_experts"] == 0


@pytest.mark.parametrize("model_type", [["mixtral"], {"a": 1}, 5])
def test_model_type_must_be_a_string(model_type: Any) -> None:
    with pytest.raises(HarnessError, match="'model_type'.*string"):
        shape(MIXTRAL_SMALL, model_type=model_type)
    wrapped = {"model_type": "vl", "text_config": {**MIXTRAL_SMALL, "model_type": model_type}}
    with pytest.raises(HarnessError, match="model_type"):
        shape(wrapped)


def test_llama4_sub_configs_must_be_objects() -> None:
    with pytest.raises(HarnessError, match="'text_config'.*object"):
        shape({"model_type": "llama4", "text_config": [1]})


def test_deeply_nested_or_huge_number_json_is_one_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    with pytest.raises(HarnessError, match="nested too deeply"):
        load_model(str(deep))
    long_int = tmp_path / "long.json"
    long_int.write_text('{"hidden_size": ' + "7" * 5000 + "}")
    with pytest.raises(HarnessError, match="number too long"):
        load_model(str(long_int))


def test_a_model_path_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    with pytest.raises(HarnessError, match="not a regular file"):
        load_model(str(fifo))
    if Path("/dev/zero").exists():  # endless: must be refused, not read
        with pytest.raises(HarnessError, match="not a regular file"):
            load_model("/dev/zero")


def test_an_oversized_config_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "config.json"
    with big.open("wb") as fh:
        fh.truncate(80 * 1024 * 1024)  # sparse: size on paper only
    with pytest.raises(HarnessError, match="bytes, more than"):
        load_model(str(big))


MINIMAX_M2 = dict(  # MiniMaxAI/MiniMax-M2 config.json shape keys: 230B total, 10B activated (card)
    model_type="minimax_m2", hidden_size=3072, intermediate_size=1536, num_hidden_layers=62,
    num_attention_heads=48, num_key_value_heads=8, head_dim=128, num_local_experts=256,
    num_experts_per_tok=8, shared_intermediate_size=0, use_routing_bias=True, use_qk_norm=True,
    qk_norm_type="per_layer", vocab_size=200064, tie_word_embeddings=False, attn_type_list=[1] * 62)


def test_minimax_m2() -> None:
    m = shape_from_config(MINIMAX_M2, "minimax-m2", "test")
    assert m.total_params / 1e9 == pytest.approx(230, rel=0.01)
    # the card's 10B leaves out the embedding table, as moebench's active count does not
    assert (m.active_total - m.params["embedding"]) / 1e9 == pytest.approx(10.4, rel=0.01)
    assert m.head_dim == 128 and m.n_kv_heads == 8  # head_dim given apart from 3072 / 48
    assert m.params["norms"] == 62 * (2 * 3072 + (48 + 8) * 128) + 3072  # q/k norms over the projections
    assert m.params["router"] == 62 * (256 * 3072 + 256)  # sigmoid router + correction bias


def test_minimax_linear_attention_layers_are_refused() -> None:
    with pytest.raises(HarnessError, match="lightning"):
        shape_from_config(dict(MINIMAX_M2, attn_type_list=[0, 1] * 31), "minimax-m1", "test")
    with pytest.raises(HarnessError, match="attn_type_list has 1 entries"):
        shape_from_config(dict(MINIMAX_M2, attn_type_list=[1]), "minimax-m2", "test")


def _deepseek_v3_config() -> dict[str, Any]:
    from harness.workload.catalog import load_catalog_config
    return load_catalog_config("deepseek-v3")


def test_deepseek_v32_sparse_attention() -> None:
    """DeepSeek-V3.2: V3's weights plus a lightning indexer per layer (wq_b 1536→64·128, wk 7168→128,
    k_norm, weights_proj 7168→64); its FP8 keys (+ one FP32 scale) are cached for every position, and
    attention reads the latents of the 2048 positions the indexer keeps."""
    base = _deepseek_v3_config()
    v3 = shape_from_config(base, "deepseek-v3", "test")
    v32 = shape_from_config(dict(base, model_type="deepseek_v32", index_topk=2048, index_n_heads=64,
                                 index_head_dim=128), "deepseek-v3.2", "test")
    per_layer = 1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64
    assert v32.params["attention"] - v3.params["attention"] == 61 * per_layer
    assert v32.kv_bytes_per_token() - v3.kv_bytes_per_token() == 61 * (128 + 4)
    # short contexts read the same latents; at 128K the sparse model reads ~1/8 and computes ~1/13
    assert v32.kv_read_bytes(1000) == pytest.approx(v3.kv_read_bytes(1000) + 61 * 132 * 1000)
    assert v32.kv_read_bytes(131072) < v3.kv_read_bytes(131072) / 7
    assert v32.decode_attention_flops_per_token(131072) < v3.decode_attention_flops_per_token(131072) / 10
    # the cache still holds every position
    assert v32.kv_cache_bytes(131072) > v3.kv_cache_bytes(131072)
    with pytest.raises(HarnessError, match="index_topk"):
        shape_from_config(dict(base, model_type="deepseek_v32", index_n_heads=64, index_head_dim=128),
                          "deepseek-v3.2", "test")


QWEN3_NEXT = dict(  # Qwen/Qwen3-Next-80B-A3B config.json shape keys: 80B total, 3B activated (card)
    model_type="qwen3_next", hidden_size=2048, intermediate_size=5120, num_hidden_layers=48,
    num_attention_heads=16, num_key_value_heads=2, head_dim=256, linear_conv_kernel_dim=4,
    linear_key_head_dim=128, linear_num_key_heads=16, linear_num_value_heads=32, linear_value_head_dim=128,
    full_attention_interval=4, num_experts=512, num_experts_per_tok=10, moe_intermediate_size=512,
    shared_expert_intermediate_size=512, decoder_sparse_step=1, mlp_only_layers=[], vocab_size=151936,
    tie_word_embeddings=False)


def test_qwen3_next_hybrid_linear_attention() -> None:
    """12 gated-attention layers keep a KV cache; 36 Gated DeltaNet layers keep a fixed FP32 state."""
    m = shape_from_config(QWEN3_NEXT, "qwen3-next", "test")
    assert m.total_params / 1e9 == pytest.approx(80, rel=0.01)
    # the card's "3B" activated: 3.25B without embedding and head (3.56B with the head)
    assert (m.active_total - m.params["embedding"] - m.params["lm_head"]) / 1e9 == pytest.approx(3.25, rel=0.02)
    assert (m.n_linear_layers, m.n_full_layers) == (36, 12)
    full_attn = 2048 * (16 * 256 * 2 + 2 * 2 * 256) + 16 * 256 * 2048  # q doubled for the output gate
    delta = 2048 * (2 * 2048 + 2 * 4096) + 2048 * 64 + (2 * 2048 + 4096) * 4 + 64 + 128 + 4096 * 2048
    assert m.params["attention"] == 12 * full_attn + 36 * delta
    assert m.kv_bytes_per_token(2.0) == 12 * 2 * 2 * 256 * 2  # only the full-attention layers
    state = 36 * (32 * 128 * 128 + (2 * 16 * 128 + 32 * 128) * 3) * 2  # BF16, the model dtype (vLLM)
    assert m.linear_state_bytes == state
    assert m.kv_cache_bytes(8192, 2.0) == 12 * 2 * 2 * 256 * 2 * 8192 + state
    # a decode step reads and writes the state back, whatever the context
    assert m.kv_read_bytes(0, 2.0) == 2 * state


def test_qwen3_next_state_takes_the_engines_dtype() -> None:
    """vLLM keeps the Gated DeltaNet state in BF16, llama.cpp in F32: the prediction says which."""
    from harness.hardware.machine import Machine
    from harness.workload.scenario import Scenario
    from harness.predict import predict
    from harness.workload.quant import parse_quant

    m = shape_from_config(QWEN3_NEXT, "qwen3-next", "test")
    box = Machine(name="box", source="test", sockets=1, cores_per_socket=32, capacity_gb=512,
                  measured_bandwidth_gbs=400.0, cpu_gflops_fp32=5000.0)
    for engine, per_elem in (("llama.cpp", 4.0), ("ik_llama.cpp", 4.0), ("vllm", 2.0)):
        pred = predict(box, Scenario(model=m, quant=parse_quant("q8_0"), engine=engine, placement="cpu", context=0))
        assert pred.memory["host"]["kv_cache"] == m.linear_state_elems * per_elem
        assert any("linear-attention state" in a for a in pred.assumptions)


def test_all_linear_attention_has_no_context_limit() -> None:
    from harness.hardware.machine import Machine
    from harness.workload.scenario import Scenario
    from harness.predict import predict
    from harness.workload.quant import parse_quant

    m = shape_from_config(dict(QWEN3_NEXT, layer_types=["linear_attention"] * 48), "all-linear", "test")
    box = Machine(name="box", source="test", sockets=1, cores_per_socket=32, capacity_gb=512,
                  measured_bandwidth_gbs=400.0, cpu_gflops_fp32=5000.0)
    cap = predict(box, Scenario(model=m, quant=parse_quant("q8_0"), engine="llama.cpp", placement="cpu")).capacity
    assert cap["max_context"] is None and cap["max_batch"] > 1000


def test_qwen3_next_layer_types_and_bad_values() -> None:
    types = ["linear_attention", "full_attention"] * 24
    m = shape_from_config(dict(QWEN3_NEXT, layer_types=types), "qwen3-next", "test")
    assert (m.n_linear_layers, m.n_full_layers) == (24, 24)
    with pytest.raises(HarnessError, match="layer_types"):
        shape_from_config(dict(QWEN3_NEXT, layer_types=["mamba"] * 48), "qwen3-next", "test")
    with pytest.raises(HarnessError, match="attn_output_gate"):
        shape_from_config(dict(QWEN3_NEXT, attn_output_gate="false"), "qwen3-next", "test")
    with pytest.raises(HarnessError, match="linear_num_value_heads"):
        shape_from_config({k: v for k, v in QWEN3_NEXT.items() if k != "linear_num_value_heads"}, "x", "test")


def test_string_booleans_are_refused_not_read_as_true() -> None:
    for key in ("tie_word_embeddings", "attention_bias"):
        with pytest.raises(HarnessError, match=key):
            shape_from_config(dict(OLMOE, **{key: "false"}), "olmoe", "test")


def test_first_dense_layers_must_leave_moe_layers() -> None:
    with pytest.raises(HarnessError, match="first_k_dense_replace"):
        shape_from_config(dict(DEEPSEEK_V2_LITE, first_k_dense_replace=27), "v2-lite", "test")
