"""Read a model's shape and exact bytes per tensor class from a GGUF header.

Only the header is parsed (``gguf.GGUFReader`` memory-maps the file; no weights are loaded).
Tensor names follow llama.cpp's ``gguf-py/gguf/constants.py`` (``blk.N.ffn_gate_exps`` ...);
byte counts are each tensor's ``n_bytes`` from its ggml type and shape. Split files
(``*-00001-of-00009.gguf``) are read together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.workload.arch import active_from, read_from
from harness.workload.shape import TENSOR_CLASSES, ModelShape, check_shape

_SPLIT = re.compile(r"^(?P<stem>.*)-(?P<i>\d{5})-of-(?P<n>\d{5})\.gguf$", re.IGNORECASE)
_BLOCK = re.compile(r"^blk\.(\d+)\.(.+)$")


@dataclass(frozen=True)
class GgufTensor:
    """One tensor of a GGUF header (shape in ggml order: ne0 = row length first)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: str
    n_elements: int
    n_bytes: int


def load_gguf(path: Path) -> ModelShape:
    """``ModelShape`` of a GGUF file (all parts when it is one of a split set)."""
    meta: dict[str, Any] = {}
    tensors: list[GgufTensor] = []
    for part in split_parts(Path(path)):
        part_meta, part_tensors = read_gguf_header(part)
        meta = meta or part_meta
        tensors.extend(part_tensors)
    return shape_from_gguf(meta, tensors, _model_id(Path(path)), f"gguf:{path}")


def split_parts(path: Path) -> list[Path]:
    """The files of a split GGUF set, in order; just ``[path]`` for a single file."""
    match = _SPLIT.match(path.name)
    if not match:
        return [path]
    n = int(match.group("n"))
    parts = [path.with_name(f"{match.group('stem')}-{i:05d}-of-{n:05d}.gguf")
             for i in range(1, n + 1)]
    missing = [p.name for p in parts if not p.is_file()]
    if missing:
        raise HarnessError(f"split GGUF {path.name} lacks {', '.join(missing)} — download every "
                           "part into the same folder")
    return parts


def read_gguf_header(path: Path) -> tuple[dict[str, Any], list[GgufTensor]]:
    """Metadata key/values and tensor list of one GGUF file."""
    from gguf import GGUFReader  # imported late: only GGUF users pay for it

    try:
        reader = GGUFReader(str(path), "r")
    except OSError as exc:
        raise HarnessError(f"cannot read {path}: {exc} — check the path") from None
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise HarnessError(f"{path} is not a readable GGUF file ({exc}) — is it truncated or "
                           "not a GGUF? Download it again") from None
    meta = {name: _field_value(field) for name, field in reader.fields.items()
            if not name.startswith("tokenizer.ggml.") or name == "tokenizer.ggml.model"}
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    if tokens is not None:
        meta["tokenizer.ggml.tokens.count"] = len(tokens.data)
    tensors = [GgufTensor(t.name, tuple(int(x) for x in t.shape), t.tensor_type.name,
                          int(t.n_elements), int(t.n_bytes)) for t in reader.tensors]
    return meta, tensors


def _field_value(field: Any) -> Any:
    try:
        return field.contents()
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


# Tensors of layers a GGUF header does not describe well enough to count their cache: recurrent /
# state-space layers (Qwen3-Next, Mamba hybrids: ssm_*) and DeepSeek-V3.2's sparse-attention indexer.
_UNMODELLED = re.compile(r"\.(ssm_|indexer)")


def tensor_class(name: str, n_layers: int) -> str:
    """The tensor class of a GGUF tensor name (``blk.N`` at or past ``n_layers`` is MTP)."""
    if name.startswith("token_embd.") and "norm" not in name:
        return "embedding"
    if name.startswith("output."):
        return "lm_head"
    match = _BLOCK.match(name)
    if not match:
        return "norms"  # output_norm, token_embd_norm, rope_freqs: small per-model tensors
    layer, rest = int(match.group(1)), match.group(2)
    if layer >= n_layers or rest.startswith("nextn."):
        return "mtp"
    return _block_class(rest)


def _block_class(rest: str) -> str:
    if "norm" in rest:
        return "norms"
    if rest.startswith("attn_"):
        return "attention"  # q/k/v/o, MLA q_a/q_b/kv_a_mqa/kv_b/k_b/v_b, biases, sinks
    if "shexp" in rest:
        return "shared_experts"  # ffn_*_shexp and Qwen2-MoE's ffn_gate_inp_shexp
    if rest.startswith(("ffn_gate_inp", "exp_probs_b")):
        return "router"
    if "_exps" in rest:
        return "routed_experts"
    return "dense_mlp"


def shape_from_gguf(meta: dict[str, Any], tensors: list[GgufTensor], model_id: str,
                    source: str) -> ModelShape:
    """``ModelShape`` from a GGUF header: counts and bytes summed per class from the tensors."""
    if not tensors:
        raise HarnessError(f"{source}: the GGUF header lists no tensors — is this a vocab-only "
                           "or adapter file? Point --model at the model's weights")
    arch = meta.get("general.architecture")
    if not arch:
        raise HarnessError(f"{source}: GGUF metadata lacks general.architecture — not a model file")
    unmodelled = next((t.name for t in tensors if _UNMODELLED.search(t.name)), None)
    if unmodelled:
        raise HarnessError(f"{source}: GGUF architecture {arch!r} has {unmodelled!r} — linear-attention / state-space "
                           "or sparse-attention layers, which moebench reads from config.json only; pass the model's "
                           "config.json (or its catalog id) instead")
    key = _Keys(meta, arch, source)
    n_mtp = int(key.get("nextn_predict_layers", 0))
    n_layers = key.req("block_count") - n_mtp
    params, nbytes = _sum_by_class(tensors, n_layers)
    by_name = {t.name: t for t in tensors}
    moe_layers = _moe_layers(tensors, n_layers)
    n_experts, k = _experts(key, tensors, moe_layers)
    embd = by_name.get("token_embd.weight")
    d = key.get("embedding_length") or (embd.shape[0] if embd else 0)
    vocab = embd.shape[1] if embd else int(key.get("vocab_size", 0))
    active = active_from(params, n_experts, k)
    attn = _attention(key, by_name, d)
    window, n_sliding = _sliding(key, arch, n_layers)
    return check_shape(ModelShape(
        id=model_id, family=f"gguf:{arch}", source=source, n_layers=n_layers,
        n_moe_layers=len(moe_layers), n_dense_layers=n_layers - len(moe_layers),
        hidden_size=d, vocab_size=vocab, n_routed_experts=n_experts, experts_per_token=k,
        n_shared_experts=int(key.get("expert_shared_count", 1 if _has(tensors, "_shexp") else 0)),
        expert_params=_expert_params(tensors, moe_layers, n_experts),
        params=params, active_params=active, read_params=read_from(active, d, vocab),
        tensor_bytes=nbytes, sliding_window=window, n_sliding_layers=n_sliding,
        n_mtp_layers=n_mtp, file_bytes=sum(nbytes.values()), **attn))


class _Keys:
    """``{arch}.<key>`` metadata access with one-line errors."""

    def __init__(self, meta: dict[str, Any], arch: str, source: str) -> None:
        self.meta, self.arch, self.source = meta, arch, source

    def get(self, key: str, default: Any = None) -> Any:
        value = self.meta.get(f"{self.arch}.{key}")
        if isinstance(value, list):  # per-layer arrays (head_count_kv): the largest entry
            value = max(value) if value else None
        return default if value is None else value

    def req(self, key: str) -> int:
        value = self.get(key)
        if value is None:
            raise HarnessError(f"{self.source}: GGUF metadata lacks {self.arch}.{key} — the file "
                               "is incomplete; convert it again with llama.cpp")
        return int(value)


def _sum_by_class(tensors: list[GgufTensor], n_layers: int) -> tuple[dict[str, int], dict[str, int]]:
    params = dict.fromkeys(TENSOR_CLASSES, 0)
    nbytes = dict.fromkeys(TENSOR_CLASSES, 0)
    for t in tensors:
        cls = tensor_class(t.name, n_layers)
        params[cls] += t.n_elements
        nbytes[cls] += t.n_bytes
    return params, nbytes


def _has(tensors: list[GgufTensor], fragment: str) -> bool:
    return any(fragment in t.name for t in tensors)


def _moe_layers(tensors: list[GgufTensor], n_layers: int) -> list[int]:
    layers = {int(m.group(1)) for t in tensors if "_exps" in t.name
              for m in [_BLOCK.match(t.name)] if m}
    return sorted(i for i in layers if i < n_layers)


def _experts(key: _Keys, tensors: list[GgufTensor], moe_layers: list[int]) -> tuple[int, int]:
    if not moe_layers:
        return 0, 0
    n_experts = int(key.get("expert_count", 0)) or next(
        t.shape[2] for t in tensors if "_exps" in t.name and len(t.shape) == 3)
    k = key.req("expert_used_count")
    if not 0 < k <= n_experts:
        raise HarnessError(f"{key.source}: {key.arch}.expert_used_count {k} does not fit "
                           f"{n_experts} experts — the header is inconsistent")
    return n_experts, k


def _expert_params(tensors: list[GgufTensor], moe_layers: list[int], n_experts: int) -> int:
    if not moe_layers:
        return 0
    prefix = f"blk.{moe_layers[0]}."
    total = sum(t.n_elements for t in tensors if t.name.startswith(prefix) and "_exps" in t.name)
    return total // n_experts


def _attention(key: _Keys, by_name: dict[str, GgufTensor], d: int) -> dict[str, Any]:
    heads = key.req("attention.head_count")
    kv_lora = key.get("attention.kv_lora_rank")
    if kv_lora:  # MLA; key_length_mla/value_length_mla in conversions that split attn_kv_b
        rope = int(key.get("rope.dimension_count", 0))
        qk = int(key.get("attention.key_length_mla") or key.get("attention.key_length"))
        v = int(key.get("attention.value_length_mla") or key.get("attention.value_length"))
        return dict(attention_kind="mla", n_heads=heads, n_kv_heads=heads, head_dim=qk,
                    v_head_dim=v if v != qk else None, kv_lora_rank=int(kv_lora),
                    qk_rope_head_dim=rope)
    kv = int(key.get("attention.head_count_kv", heads))
    head_dim = int(key.get("attention.key_length", d // heads if heads else 0))
    return dict(attention_kind="mha" if kv == heads else "gqa", n_heads=heads, n_kv_heads=kv,
                head_dim=head_dim, kv_lora_rank=None, qk_rope_head_dim=None)


def _sliding(key: _Keys, arch: str, n_layers: int) -> tuple[int | None, int]:
    window = key.get("attention.sliding_window")
    if not window:
        return None, 0
    pattern = key.meta.get(f"{arch}.attention.sliding_window_pattern")
    if isinstance(pattern, list):  # one bool per layer
        return int(window), sum(1 for x in pattern[:n_layers] if x)
    if arch == "gpt-oss":  # llama.cpp sets swa pattern 2 in code: even layers slide
        return int(window), (n_layers + 1) // 2
    if isinstance(pattern, int) and pattern > 1:  # every pattern-th layer is full attention
        return int(window), n_layers - n_layers // pattern
    return int(window), n_layers


def _model_id(path: Path) -> str:
    match = _SPLIT.match(path.name)
    return match.group("stem") if match else path.stem
