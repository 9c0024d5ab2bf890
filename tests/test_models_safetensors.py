"""model.safetensors.index.json: shape from the config.json beside it, size from total_size,
exact bytes by class when the shards are there (header: u64 length + JSON, the safetensors
format)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.workload import load_model
from harness.workload.safetensors_index import hf_tensor_class

CONFIG = dict(  # a tiny DeepSeek-V3: 2 layers (1 dense) + 1 MTP layer
    model_type="deepseek_v3", hidden_size=64, num_hidden_layers=2, n_routed_experts=4,
    num_experts_per_tok=2, n_shared_experts=1, moe_intermediate_size=32, intermediate_size=128,
    first_k_dense_replace=1, kv_lora_rank=16, q_lora_rank=32, num_attention_heads=2,
    num_key_value_heads=2, vocab_size=100, qk_nope_head_dim=16, qk_rope_head_dim=8,
    v_head_dim=16, topk_method="noaux_tc", num_nextn_predict_layers=1)

TENSORS = {  # name: (dtype, shape, class)
    "model.embed_tokens.weight": ("BF16", [100, 64], "embedding"),
    "lm_head.weight": ("BF16", [100, 64], "lm_head"),
    "model.norm.weight": ("BF16", [64], "norms"),
    "model.layers.0.self_attn.q_a_proj.weight": ("F8_E4M3", [32, 64], "attention"),
    "model.layers.0.self_attn.q_a_proj.weight_scale_inv": ("F32", [1, 1], "attention"),
    "model.layers.0.input_layernorm.weight": ("BF16", [64], "norms"),
    "model.layers.0.mlp.down_proj.weight": ("F8_E4M3", [64, 128], "dense_mlp"),
    "model.layers.1.mlp.gate.weight": ("BF16", [4, 64], "router"),
    "model.layers.1.mlp.gate.e_score_correction_bias": ("F32", [4], "router"),
    "model.layers.1.mlp.experts.3.up_proj.weight": ("F8_E4M3", [32, 64], "routed_experts"),
    "model.layers.1.mlp.shared_experts.up_proj.weight": ("F8_E4M3", [32, 64], "shared_experts"),
    "model.layers.2.embed_tokens.weight": ("BF16", [100, 64], "mtp"),  # MTP's own copy
    "model.layers.2.eh_proj.weight": ("BF16", [64, 128], "mtp"),
}
SIZES = {"BF16": 2, "F32": 4, "F8_E4M3": 1}


def nbytes(dtype: str, shape: list[int]) -> int:
    n = SIZES[dtype]
    for x in shape:
        n *= x
    return n


def write_model(folder: Path, with_shards: bool) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG))
    names = sorted(TENSORS)
    shards = {"model-00001-of-00002.safetensors": names[:6],
              "model-00002-of-00002.safetensors": names[6:]}
    weight_map = {n: shard for shard, ns in shards.items() for n in ns}
    total = sum(nbytes(*TENSORS[n][:2]) for n in names)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    if with_shards:
        for shard, ns in shards.items():
            _write_shard(folder / shard, ns)
    return folder / "model.safetensors.index.json"


def _write_shard(path: Path, names: list[str]) -> None:
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for n in names:
        dtype, shape, _ = TENSORS[n]
        size = nbytes(dtype, shape)
        header[n] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + bytes(offset))


def test_index_without_shards_gives_total_size(tmp_path: Path) -> None:
    index = write_model(tmp_path / "tiny-v3", with_shards=False)
    m = load_model(str(index))
    assert m.file_bytes == sum(nbytes(*v[:2]) for v in TENSORS.values())
    assert m.tensor_bytes is None and m.file_class_bytes is None and m.id == "tiny-v3"
    assert m.n_moe_layers == 1 and m.n_mtp_layers == 1
    assert "total_size" in m.source


def test_index_with_shards_gives_exact_bytes_by_class(tmp_path: Path) -> None:
    index = write_model(tmp_path / "tiny-v3", with_shards=True)
    m = load_model(str(index.parent))  # the folder works too
    want: dict[str, int] = {}
    for dtype, shape, cls in TENSORS.values():
        want[cls] = want.get(cls, 0) + nbytes(dtype, shape)
    assert {c: b for c, b in m.file_class_bytes.items() if b} == want
    assert m.tensor_bytes is None  # recipes still apply to a safetensors model


def test_index_needs_its_config(tmp_path: Path) -> None:
    index = write_model(tmp_path / "m", with_shards=False)
    (index.parent / "config.json").unlink()
    with pytest.raises(HarnessError, match="config.json"):
        load_model(str(index))


def test_broken_index_and_shard(tmp_path: Path) -> None:
    index = write_model(tmp_path / "m", with_shards=True)
    index.write_text(json.dumps({"weight_map": {}}))
    with pytest.raises(HarnessError, match="total_size"):
        load_model(str(index))
    index = write_model(tmp_path / "n", with_shards=True)
    (index.parent / "model-00001-of-00002.safetensors").write_bytes(b"\xff" * 12)
    with pytest.raises(HarnessError, match="safetensors"):
        load_model(str(index))


@pytest.mark.parametrize("name, cls", [
    ("model.layers.3.block_sparse_moe.gate.weight", "router"),  # Mixtral
    ("model.layers.3.block_sparse_moe.experts.7.w2.weight", "routed_experts"),
    ("model.layers.3.mlp.shared_expert_gate.weight", "shared_experts"),  # Qwen2-MoE
    ("model.layers.3.mlp.router.bias", "router"),  # gpt-oss
    ("model.layers.3.mlp.experts.gate_up_proj_blocks", "routed_experts"),
    ("model.layers.3.self_attn.sinks", "attention"),
    ("model.layers.3.self_attn.q_norm.weight", "norms"),
    ("language_model.model.layers.3.feed_forward.router.weight", "router"),  # Llama 4
    ("language_model.model.layers.3.feed_forward.shared_expert.down_proj.weight", "shared_experts"),
    ("language_model.model.layers.2.feed_forward.gate_proj.weight", "dense_mlp"),
    ("language_model.lm_head.weight", "lm_head"),
    ("model.layers.61.shared_head.head.weight", "mtp"),
])
def test_hf_tensor_names(name: str, cls: str) -> None:
    assert hf_tensor_class(name, n_layers=61) == cls


def _damage_index(index: Path, change) -> None:
    doc = json.loads(index.read_text())
    change(doc)
    index.write_text(json.dumps(doc))


@pytest.mark.parametrize("change, needle", [
    (lambda d: d.update(metadata=[1]), "total_size"),
    (lambda d: d.update(metadata="x"), "total_size"),
    (lambda d: d["metadata"].update(total_size=-5), "total_size -5"),
    (lambda d: d["metadata"].update(total_size=True), "total_size"),
    (lambda d: d["metadata"].update(total_size=1e300), "total_size"),
    (lambda d: d["weight_map"].update(x=["a"]), "weight_map names"),
    (lambda d: d["weight_map"].update(x=5), "weight_map names"),
    (lambda d: d["weight_map"].update(x="../../etc/passwd"), "weight_map names"),
])
def test_damaged_index_is_one_error(tmp_path: Path, change, needle: str) -> None:
    index = write_model(tmp_path / "m", with_shards=False)
    _damage_index(index, change)
    with pytest.raises(HarnessError, match=needle):
        load_model(str(index))


@pytest.mark.parametrize("header", [
    [1, 2],  # not an object
    {"t": {"dtype": "BF16", "shape": [1], "data_offsets": 5}},
    {"t": {"dtype": "BF16", "shape": [1], "data_offsets": [8, 4]}},
    {"t": "x"},
])
def test_damaged_shard_header_is_one_error(tmp_path: Path, header) -> None:
    index = write_model(tmp_path / "m", with_shards=True)
    blob = json.dumps(header).encode()
    (index.parent / "model-00001-of-00002.safetensors").write_bytes(
        struct.pack("<Q", len(blob)) + blob)
    with pytest.raises(HarnessError, match="safetensors|data_offsets"):
        load_model(str(index))
