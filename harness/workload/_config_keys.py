"""Reading one key of a config.json: present or required, an integer in its accepted range, a list,
a per-layer list, a boolean; the shared attention and sliding-window readers. Every bad value is
refused with a HarnessError that names the key."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from harness.workload.arch import Attn


# ---------------------------------------------------------------------------- config access

def _get(cfg: dict[str, Any], key: str, default: Any = None) -> Any:
    value = cfg.get(key)
    return default if value is None else value


def _req(cfg: dict[str, Any], key: str, what: str = "") -> Any:
    value = cfg.get(key)
    if value is None:
        model_type = cfg.get("model_type", "?")
        raise HarnessError(f"config.json (model_type {model_type}) lacks '{key}'{what} — "
                           "use the model's complete config.json from its Hugging Face repository")
    return value


# Accepted range of each size field, (lowest, highest). The highest values lie far beyond any
# published model (DeepSeek-V3: hidden 7168, 256 experts, 61 layers; Kimi-K2: 384 experts;
# Llama 3.1 405B: hidden 16384, 126 layers; Llama 4: vocab 202048) yet refuse a typo such as
# 10**40, which would otherwise flow into the counts and the prediction unnoticed.
_BIG = 1 << 20


_RANGES: dict[str, tuple[int, int]] = {
    "num_hidden_layers": (1, 10_000), "hidden_size": (1, _BIG), "vocab_size": (1, 1 << 24),
    "intermediate_size": (0, 1 << 22), "intermediate_size_mlp": (0, 1 << 22),
    "moe_intermediate_size": (1, 1 << 22), "shared_expert_intermediate_size": (0, 1 << 22),
    "num_attention_heads": (1, 1 << 16), "num_key_value_heads": (1, 1 << 16),
    "head_dim": (1, 1 << 16), "qk_nope_head_dim": (0, 1 << 16), "qk_rope_head_dim": (0, 1 << 16),
    "v_head_dim": (1, 1 << 16), "kv_lora_rank": (1, _BIG), "q_lora_rank": (1, _BIG),
    "n_routed_experts": (0, 1 << 16), "num_local_experts": (1, 1 << 16),
    "num_experts": (1, 1 << 16), "num_experts_per_tok": (0, 1 << 16),
    "experts_per_token": (0, 1 << 16), "n_shared_experts": (0, 1 << 16),
    "first_k_dense_replace": (0, 10_000), "moe_layer_freq": (1, 10_000),
    "decoder_sparse_step": (1, 10_000), "interleave_moe_layer_step": (1, 10_000),
    "no_rope_layer_interval": (1, 10_000), "max_window_layers": (0, 10_000),
    "num_nextn_predict_layers": (0, 100), "sliding_window": (1, 1 << 40),
    "linear_num_key_heads": (1, 1 << 16), "linear_num_value_heads": (1, 1 << 16),
    "linear_key_head_dim": (1, 1 << 16), "linear_value_head_dim": (1, 1 << 16),
    "linear_conv_kernel_dim": (1, 1 << 10), "full_attention_interval": (1, 10_000),
    "index_n_heads": (1, 1 << 16), "index_head_dim": (1, 1 << 16), "index_topk": (1, 1 << 40),
    "attention_chunk_size": (1, 1 << 40),
    # vision_config (Llama 4)
    "image_size": (1, 1 << 16), "patch_size": (1, 1 << 16), "num_channels": (1, 64),
    "projector_input_dim": (1, _BIG), "projector_output_dim": (1, _BIG),
    "vision_output_dim": (1, _BIG),
}


_DEFAULT_RANGE = (0, _BIG)


def _checked(cfg: dict[str, Any], key: str, value: Any) -> int:
    """``value`` of field ``key`` if it is an integer in the field's accepted range."""
    lo, hi = _RANGES.get(key, _DEFAULT_RANGE)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise HarnessError(f"config.json field '{key}' is {shown}, expected an integer from {lo} "
                           f"to {hi} — fix the file")
    return value


def _int(cfg: dict[str, Any], key: str) -> int:
    """A required integer field, range-checked (``_RANGES``)."""
    return _checked(cfg, key, _req(cfg, key))


def _opt(cfg: dict[str, Any], key: str, default: int) -> int:
    """An optional integer field: ``default`` when absent or null, else range-checked."""
    value = cfg.get(key)
    return default if value is None else _checked(cfg, key, value)


def _opt_list(cfg: dict[str, Any], key: str) -> list[Any] | None:
    value = cfg.get(key)
    if value is not None and not isinstance(value, list):
        raise HarnessError(f"config.json field '{key}' is a {type(value).__name__}, expected a "
                           "list — fix the file")
    return value


def _layer_list(cfg: dict[str, Any], key: str, n_layers: int) -> list[int] | None:
    """A list of layer indices, each an integer from 0 to n_layers - 1."""
    value = _opt_list(cfg, key)
    for i in value or ():
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n_layers:
            raise HarnessError(f"config.json field '{key}' holds {i!r}, expected layer indices "
                               f"from 0 to {n_layers - 1} — fix the file")
    return value


def _flag(cfg: dict[str, Any], key: str, default: bool) -> bool:
    """An optional true/false field: ``default`` when absent or null."""
    value = cfg.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise HarnessError(f"config.json field '{key}' is {value!r}, expected true or false — fix the file")
    return value


def _head_dim(cfg: dict[str, Any]) -> int:
    heads = _int(cfg, "num_attention_heads")
    if cfg.get("head_dim"):
        return _int(cfg, "head_dim")
    hidden = _int(cfg, "hidden_size")
    if heads == 0 or hidden % heads:
        raise HarnessError(f"config.json: hidden_size {hidden} is not a multiple of "
                           f"num_attention_heads {heads} and no head_dim is given — add head_dim")
    return hidden // heads


def _gqa(cfg: dict[str, Any], *, qkv_bias: bool = False, o_bias: bool = False,
         qk_norm: bool = False, sinks: bool = False) -> Attn:
    heads = _int(cfg, "num_attention_heads")
    kv = _opt(cfg, "num_key_value_heads", heads)
    if kv == 0 or heads % kv:
        raise HarnessError(f"config.json: num_attention_heads {heads} is not a multiple of "
                           f"num_key_value_heads {kv} — fix the file")
    hd = _head_dim(cfg)
    return Attn("mha" if kv == heads else "gqa", heads, kv, hd, hd, qkv_bias=qkv_bias,
                o_bias=o_bias, qk_norm=2 * hd if qk_norm else 0, sinks=sinks)


def _check_experts(cfg: dict[str, Any], n_experts: int, k: int) -> None:
    if n_experts == 0 and k == 0:
        return  # a dense model (DeepSeek family with no routed experts)
    if not 0 < k <= n_experts:
        raise HarnessError(f"config.json: {k} experts per token but {n_experts} routed experts — "
                           "num_experts_per_tok must be between 1 and the expert count")


def _sliding(cfg: dict[str, Any], n_layers: int) -> tuple[int | None, int]:
    """(window, number of window layers) from ``layer_types`` or ``sliding_window``."""
    window = _window(cfg, "sliding_window")
    types = _opt_list(cfg, "layer_types")
    if types is not None:
        if len(types) != n_layers:
            raise HarnessError(f"config.json: layer_types has {len(types)} entries but "
                               f"num_hidden_layers is {n_layers} — fix one of them")
        n = sum(1 for t in types if t == "sliding_attention")
        if n and not window:
            raise HarnessError("config.json: layer_types names sliding_attention layers but "
                               "sliding_window is not set — add sliding_window")
        return (window if n else None), n
    if not window or cfg.get("use_sliding_window") is False:
        return None, 0
    # Qwen2: layers from max_window_layers on use the window (modeling_qwen2.py).
    first = _opt(cfg, "max_window_layers", 0)
    return window, max(0, n_layers - first)


def _window(cfg: dict[str, Any], key: str) -> int | None:
    """A window size in tokens; null, 0 or false mean no window."""
    value = cfg.get(key)
    return _checked(cfg, key, value) if value else None


def _sub_config(cfg: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = cfg.get(key)
    if value is not None and not isinstance(value, dict):
        raise HarnessError(f"config.json field '{key}' is a {type(value).__name__}, expected an "
                           "object — fix the file")
    return value
