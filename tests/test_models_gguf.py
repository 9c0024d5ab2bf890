"""GGUF headers: a small DeepSeek-style file written with gguf.GGUFWriter in real ggml types
gives exact bytes per tensor class.

Expected sizes come from the block layouts in ggml-common.h, not from the gguf package:
Q4_K 144 B / 256 weights, Q6_K 210 B / 256, Q8_0 34 B / 32, Q4_0 18 B / 32, MXFP4 17 B / 32,
BF16 2 B, F32 4 B.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf import GGUFWriter

from harness.errors import HarnessError
from harness.workload import load_model
from harness.workload.quant import parse_quant

D, V, H, E, K, F, DENSE_F = 256, 32, 2, 4, 2, 64, 128
KV_LORA, Q_LORA, ROPE, NOPE, VDIM = 32, 64, 16, 32, 32
BLOCK = {T.Q4_K: (256, 144), T.Q6_K: (256, 210), T.Q8_0: (32, 34), T.Q4_0: (32, 18),
         T.MXFP4: (32, 17), T.BF16: (1, 2), T.F32: (1, 4)}


def row_bytes(qtype: T, ne0: int) -> int:
    weights, size = BLOCK[qtype]
    assert ne0 % weights == 0
    return ne0 // weights * size


def nbytes(qtype: T, shape: tuple[int, ...]) -> int:
    """Bytes of a tensor of ggml shape (ne0, ne1, ...)."""
    return row_bytes(qtype, shape[0]) * int(np.prod(shape[1:], dtype=np.int64))


def _mla(blk: str) -> list[tuple[str, T, tuple[int, ...], str]]:
    return [
        (f"{blk}.attn_norm.weight", T.F32, (D,), "norms"),
        (f"{blk}.attn_q_a.weight", T.Q8_0, (D, Q_LORA), "attention"),
        (f"{blk}.attn_q_a_norm.weight", T.F32, (Q_LORA,), "norms"),
        (f"{blk}.attn_q_b.weight", T.Q8_0, (Q_LORA, H * (NOPE + ROPE)), "attention"),
        (f"{blk}.attn_kv_a_mqa.weight", T.Q8_0, (D, KV_LORA + ROPE), "attention"),
        (f"{blk}.attn_kv_a_norm.weight", T.F32, (KV_LORA,), "norms"),
        (f"{blk}.attn_kv_b.weight", T.BF16, (KV_LORA, H * (NOPE + VDIM)), "attention"),
        (f"{blk}.attn_output.weight", T.Q4_0, (H * VDIM, D), "attention"),
        (f"{blk}.ffn_norm.weight", T.F32, (D,), "norms"),
    ]


def _moe(blk: str, cls: str | None = None) -> list[tuple[str, T, tuple[int, ...], str]]:
    return [
        (f"{blk}.ffn_gate_inp.weight", T.F32, (D, E), cls or "router"),
        (f"{blk}.exp_probs_b.bias", T.F32, (E,), cls or "router"),
        (f"{blk}.ffn_gate_exps.weight", T.Q4_K, (D, F, E), cls or "routed_experts"),
        (f"{blk}.ffn_up_exps.weight", T.Q4_K, (D, F, E), cls or "routed_experts"),
        (f"{blk}.ffn_down_exps.weight", T.MXFP4, (F, D, E), cls or "routed_experts"),
        (f"{blk}.ffn_gate_shexp.weight", T.Q4_K, (D, F), cls or "shared_experts"),
        (f"{blk}.ffn_up_shexp.weight", T.Q4_K, (D, F), cls or "shared_experts"),
        (f"{blk}.ffn_down_shexp.weight", T.Q8_0, (F, D), cls or "shared_experts"),
    ]


TENSORS: list[tuple[str, T, tuple[int, ...], str]] = [
    ("token_embd.weight", T.Q4_K, (D, V), "embedding"),
    ("output_norm.weight", T.F32, (D,), "norms"),
    ("output.weight", T.Q6_K, (D, V), "lm_head"),
    *_mla("blk.0"),  # dense layer (leading_dense_block_count 1)
    ("blk.0.ffn_gate.weight", T.Q4_K, (D, DENSE_F), "dense_mlp"),
    ("blk.0.ffn_up.weight", T.Q4_K, (D, DENSE_F), "dense_mlp"),
    ("blk.0.ffn_down.weight", T.Q8_0, (DENSE_F, D), "dense_mlp"),
    *_mla("blk.1"), *_moe("blk.1"),  # MoE layer
    *[(n, t, s, "mtp") for n, t, s, _ in _mla("blk.2") + _moe("blk.2")],  # nextn (MTP) block
    ("blk.2.nextn.eh_proj.weight", T.Q8_0, (2 * D, D), "mtp"),
]


def write_gguf(path: Path, tensors=TENSORS, **meta_overrides) -> None:
    w = GGUFWriter(str(path), "deepseek2")
    meta = {"block_count": 3, "nextn_predict_layers": 1, "embedding_length": D,
            "attention.head_count": H, "attention.head_count_kv": H,
            "attention.kv_lora_rank": KV_LORA, "attention.q_lora_rank": Q_LORA,
            "rope.dimension_count": ROPE, "attention.key_length": NOPE + ROPE,
            "attention.value_length": VDIM, "expert_count": E, "expert_used_count": K,
            "expert_shared_count": 1, "leading_dense_block_count": 1, "vocab_size": V,
            **meta_overrides}
    for key, value in meta.items():
        if value is not None:
            w.add_uint32(f"deepseek2.{key}", value)
    for name, qtype, shape, _ in tensors:
        byte_shape = (*reversed(shape[1:]), row_bytes(qtype, shape[0]))
        w.add_tensor(name, np.zeros(byte_shape, dtype=np.uint8), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture()
def gguf_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-deepseek-Q4_K_M.gguf"
    write_gguf(path)
    return path


def expected_bytes() -> dict[str, int]:
    out: dict[str, int] = {}
    for _, qtype, shape, cls in TENSORS:
        out[cls] = out.get(cls, 0) + nbytes(qtype, shape)
    return out


def test_exact_bytes_by_class(gguf_path: Path) -> None:
    m = load_model(str(gguf_path))
    want = expected_bytes()
    assert {c: b for c, b in m.tensor_bytes.items() if b} == want
    assert m.file_bytes == sum(want.values())
    assert want["routed_experts"] == 2 * E * F * 144 + E * D * (F // 32) * 17  # spelled out
    # a recipe uses the header's bytes, not its own table
    assert parse_quant("q4_k_m").weight_bytes(m) == {c: float(m.tensor_bytes[c]) for c in m.tensor_bytes}


def test_shape_read_from_header(gguf_path: Path) -> None:
    m = load_model(str(gguf_path))
    assert (m.id, m.family) == ("tiny-deepseek-Q4_K_M", "gguf:deepseek2")
    assert (m.n_layers, m.n_moe_layers, m.n_dense_layers, m.n_mtp_layers) == (2, 1, 1, 1)
    assert (m.hidden_size, m.vocab_size, m.n_routed_experts, m.experts_per_token) == (D, V, E, K)
    assert m.expert_params == 3 * D * F
    assert m.attention_kind == "mla" and m.kv_lora_rank == KV_LORA
    assert m.kv_bytes_per_token() == 2 * (KV_LORA + ROPE) * 2
    assert m.params["routed_experts"] == E * 3 * D * F
    assert m.active_params["routed_experts"] == K * 3 * D * F
    assert m.params["embedding"] == m.params["lm_head"] == D * V


def test_read_bytes_use_header_bytes(gguf_path: Path) -> None:
    m = load_model(str(gguf_path))
    read = parse_quant("q4_k_m").read_bytes(m)
    want = expected_bytes()
    assert read["embedding"] == pytest.approx(want["embedding"] / V)  # one row
    assert read["lm_head"] == want["lm_head"]
    assert read["routed_experts"] == pytest.approx(want["routed_experts"] * K / E)
    assert read["mtp"] == 0


def test_split_gguf_parts_are_read_together(tmp_path: Path) -> None:
    half = len(TENSORS) // 2
    first = tmp_path / "m-00001-of-00002.gguf"
    write_gguf(first, TENSORS[:half])
    write_gguf(tmp_path / "m-00002-of-00002.gguf", TENSORS[half:])
    m = load_model(str(first))
    assert m.file_bytes == sum(expected_bytes().values()) and m.id == "m"
    (tmp_path / "m-00002-of-00002.gguf").unlink()
    with pytest.raises(HarnessError, match="00002-of-00002"):
        load_model(str(first))


def test_missing_metadata_is_named(tmp_path: Path) -> None:
    path = tmp_path / "no-experts-used.gguf"
    write_gguf(path, expert_used_count=None)
    with pytest.raises(HarnessError, match="expert_used_count"):
        load_model(str(path))


def test_not_a_gguf_and_truncated(tmp_path: Path, gguf_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"this is not a gguf file at all" * 10)
    with pytest.raises(HarnessError, match="GGUF"):
        load_model(str(fake))
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf_path.read_bytes()[:200])
    with pytest.raises(HarnessError, match="truncated"):
        load_model(str(cut))


@pytest.mark.parametrize("meta, field", [
    ({"block_count": 1}, "n_layers is 0"),  # all blocks MTP: used to predict from zero layers
    ({"nextn_predict_layers": 5}, "n_layers is -2"),  # used to give negative tokens/s
    ({"block_count": 2**31}, "n_layers"),
    ({"attention.head_count": 0}, "n_heads is 0"),
    ({"embedding_length": 2**31}, "hidden_size"),
    ({"attention.key_length": 0}, "head_dim is 0"),
])
def test_a_damaged_header_is_refused_by_range(tmp_path: Path, meta: dict, field: str) -> None:
    path = tmp_path / "damaged.gguf"
    write_gguf(path, **meta)
    with pytest.raises(HarnessError, match=f"{field}.*damaged"):
        load_model(str(path))


@pytest.mark.parametrize("extra", ["blk.1.ssm_a", "blk.1.indexer.k_norm.weight"])
def test_linear_or_sparse_attention_gguf_points_to_config_json(tmp_path: Path, extra: str) -> None:
    """A header cannot tell moebench how a state-space / sparse-attention layer caches; it says so and
    names the way that can (the config.json), rather than counting a KV cache on every layer."""
    path = tmp_path / "hybrid.gguf"
    write_gguf(path, tensors=[*TENSORS, (extra, T.F32, (D,), "norms")])
    with pytest.raises(HarnessError, match="config.json"):
        load_model(path)
