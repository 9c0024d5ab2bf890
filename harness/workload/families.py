"""Read a Hugging Face ``config.json`` (as a dict) into a ``ModelShape``, family by family.

Each family reader turns the config into one normalised ``Arch`` (``harness.workload.arch``), whose
``count_params`` gives weights by tensor class; key access is ``_config_keys``. Tensor lists follow the transformers modelling files
(``modeling_deepseek_v3.py``, ``modeling_qwen3_moe.py``, ``modeling_gpt_oss.py``, ...).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from harness.errors import HarnessError
from harness.workload._config_keys import (_check_experts, _flag, _get, _gqa, _int, _layer_list,
                                           _opt, _opt_list, _sliding, _sub_config, _window)
from harness.workload.arch import (Arch, Attn, LinearAttn, active_from, count_params, expert_weights,
                                   read_from)
from harness.workload.shape import ModelShape, check_shape


# ---------------------------------------------------------------------------- families

def _deepseek(cfg: dict[str, Any]) -> Arch:
    """DeepSeek-V2/V3/R1 and Kimi-K2 (``modeling_deepseek.py``): MLA, shared + routed experts.
    DeepSeek-V3.2 (``deepseek_v32``) is the same model plus the sparse-attention indexer."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    heads = _int(cfg, "num_attention_heads")
    nope, rope, v = (_int(cfg, "qk_nope_head_dim"), _int(cfg, "qk_rope_head_dim"),
                     _int(cfg, "v_head_dim"))
    q_lora = _opt(cfg, "q_lora_rank", 0) or None  # null in DeepSeek-V2-Lite: q_proj is d -> H·(nope+rope)
    kv_lora = _int(cfg, "kv_lora_rank")
    sparse = cfg["model_type"] == "deepseek_v32"
    attn = Attn("mla", heads, heads, nope + rope, v, q_lora_rank=q_lora, kv_lora_rank=kv_lora,
                rope_dim=rope, qkv_bias=_flag(cfg, "attention_bias", False),
                qk_norm=(q_lora or 0) + kv_lora,
                index_n_heads=_int(cfg, "index_n_heads") if sparse else 0,
                index_head_dim=_int(cfg, "index_head_dim") if sparse else 0,
                index_topk=_int(cfg, "index_topk") if sparse else None)
    n_experts, k = _opt(cfg, "n_routed_experts", 0), _opt(cfg, "num_experts_per_tok", 0)
    _check_experts(cfg, n_experts, k)
    first_dense = _opt(cfg, "first_k_dense_replace", 0)
    if n_experts and first_dense >= n_layers:
        raise HarnessError(f"config.json: first_k_dense_replace {first_dense} leaves no MoE layer of "
                           f"{n_layers} — fix the file")
    freq = _opt(cfg, "moe_layer_freq", 1)
    moe = tuple(i for i in range(n_layers) if n_experts and i >= first_dense and i % freq == 0)
    f = _int(cfg, "moe_intermediate_size") if n_experts else 0
    n_shared = _opt(cfg, "n_shared_experts", 0)
    return Arch(cfg["model_type"], n_layers, d, _int(cfg, "vocab_size"),
                _flag(cfg, "tie_word_embeddings", False), attn, moe, _int(cfg, "intermediate_size"),
                n_experts, k, f, n_shared * f, n_shared,
                router_bias=cfg.get("topk_method") == "noaux_tc",
                n_mtp=_opt(cfg, "num_nextn_predict_layers", 0))


def _glm4_moe(cfg: dict[str, Any]) -> Arch:
    """GLM-4.5 / 4.5-Air (``modeling_glm4_moe.py``): GQA with q/k/v biases, DeepSeek-style MoE."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    attn = _gqa(cfg, qkv_bias=_flag(cfg, "attention_bias", False), qk_norm=_flag(cfg, "use_qk_norm", False))
    n_experts, k = _int(cfg, "n_routed_experts"), _int(cfg, "num_experts_per_tok")
    _check_experts(cfg, n_experts, k)
    first_dense = _opt(cfg, "first_k_dense_replace", 0)
    f, n_shared = _int(cfg, "moe_intermediate_size"), _opt(cfg, "n_shared_experts", 0)
    return Arch("glm4_moe", n_layers, d, _int(cfg, "vocab_size"),
                _flag(cfg, "tie_word_embeddings", False), attn,
                tuple(range(first_dense, n_layers)), _int(cfg, "intermediate_size"),
                n_experts, k, f, n_shared * f, n_shared, router_bias=True,  # e_score_correction_bias
                n_mtp=_opt(cfg, "num_nextn_predict_layers", 0))


def _qwen_moe(cfg: dict[str, Any]) -> Arch:
    """Qwen2-MoE / Qwen3-MoE: decoder_sparse_step and mlp_only_layers pick the MoE layers."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    qwen3 = cfg["model_type"] == "qwen3_moe"
    # Qwen2 has q/k/v biases (modeling_qwen2_moe.py); Qwen3 has none but q/k RMSNorm per head.
    attn = _gqa(cfg, qkv_bias=not qwen3 or _flag(cfg, "attention_bias", False), qk_norm=qwen3)
    n_experts, k = _int(cfg, "num_experts"), _int(cfg, "num_experts_per_tok")
    _check_experts(cfg, n_experts, k)
    step = _opt(cfg, "decoder_sparse_step", 1)
    only_mlp = set(_layer_list(cfg, "mlp_only_layers", n_layers) or ())
    bad = [i for i in only_mlp if not 0 <= i < n_layers]
    if bad or step < 1:
        raise HarnessError(f"config.json: mlp_only_layers {sorted(bad)} or decoder_sparse_step "
                           f"{step} do not fit {n_layers} layers — fix the file")
    moe = tuple(i for i in range(n_layers) if i not in only_mlp and (i + 1) % step == 0)
    shared_ff = _opt(cfg, "shared_expert_intermediate_size", 0)
    window, n_sliding = _sliding(cfg, n_layers)
    return Arch(cfg["model_type"], n_layers, d, _int(cfg, "vocab_size"),
                _flag(cfg, "tie_word_embeddings", False), attn, moe,
                _opt(cfg, "intermediate_size", 0), n_experts, k,
                _int(cfg, "moe_intermediate_size"), shared_ff, 1 if shared_ff else 0,
                shared_gate=bool(shared_ff), sliding_window=window, n_sliding=n_sliding)


def _mixtral(cfg: dict[str, Any]) -> Arch:
    """Mixtral (``modeling_mixtral.py``): every layer MoE, w1/w2/w3 experts, no shared expert."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    n_experts, k = _int(cfg, "num_local_experts"), _int(cfg, "num_experts_per_tok")
    _check_experts(cfg, n_experts, k)
    window, n_sliding = _sliding(cfg, n_layers)
    return Arch("mixtral", n_layers, d, _int(cfg, "vocab_size"),
                _flag(cfg, "tie_word_embeddings", False), _gqa(cfg), tuple(range(n_layers)), 0,
                n_experts, k, _int(cfg, "intermediate_size"),
                sliding_window=window, n_sliding=n_sliding)


def _minimax_m2(cfg: dict[str, Any]) -> Arch:
    """MiniMax-M2 (``modeling_minimax_m2.py``, MiniMaxAI/MiniMax-M2): Mixtral-style MoE in every
    layer (w1/w2/w3 experts of ``intermediate_size``, no shared expert unless
    ``shared_intermediate_size``), sigmoid router with a correction bias, GQA with head_dim given
    apart from hidden/heads and q/k RMSNorm over the whole projection (``qk_norm_type`` per_layer).
    Every layer must be softmax attention (``attn_type_list`` 1): MiniMax-M1/Text-01's lightning
    (linear) attention layers keep no growing KV cache, which moebench does not model. The MTP
    modules the config mentions are not counted (the checkpoint's layout for them is unpublished)."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    types = _opt_list(cfg, "attn_type_list")
    if types is not None and len(types) != n_layers:
        raise HarnessError(f"config.json: attn_type_list has {len(types)} entries but num_hidden_layers is "
                           f"{n_layers} — fix one of them")
    if types is not None and any(t != 1 for t in types):
        raise HarnessError("config.json attn_type_list has linear (lightning) attention layers — moebench "
                           "models softmax attention only; MiniMax-M2's config has every entry 1")
    n_experts, k = _int(cfg, "num_local_experts"), _int(cfg, "num_experts_per_tok")
    _check_experts(cfg, n_experts, k)
    attn = _gqa(cfg, qkv_bias=_flag(cfg, "attention_bias", False))
    if _flag(cfg, "use_qk_norm", False):
        per_head = cfg.get("qk_norm_type") == "per_head"
        attn = replace(attn, qk_norm=2 * attn.head_dim if per_head else (attn.n_heads + attn.n_kv_heads) * attn.head_dim)
    shared = _opt(cfg, "shared_intermediate_size", 0)
    return Arch("minimax_m2", n_layers, d, _int(cfg, "vocab_size"), _flag(cfg, "tie_word_embeddings", False),
                attn, tuple(range(n_layers)), 0, n_experts, k, _int(cfg, "intermediate_size"),
                shared, 1 if shared else 0, router_bias=_flag(cfg, "use_routing_bias", False))


def _qwen3_next(cfg: dict[str, Any]) -> Arch:
    """Qwen3-Next (``modeling_qwen3_next.py``): Qwen3-MoE experts (shared expert with a sigmoid gate)
    under a hybrid stack: Gated DeltaNet linear attention in most layers, gated full attention (q_proj
    doubled for the output gate, per-head q/k norms) every ``full_attention_interval``-th layer or where
    ``layer_types`` says ``full_attention``."""
    arch = _qwen_moe(cfg)
    n = arch.n_layers
    types = _opt_list(cfg, "layer_types")
    if types is not None:
        if len(types) != n or any(t not in ("linear_attention", "full_attention") for t in types):
            raise HarnessError(f"config.json: layer_types must list {n} entries, each linear_attention or "
                               "full_attention — fix the file")
        n_linear = sum(1 for t in types if t == "linear_attention")
    else:
        interval = _opt(cfg, "full_attention_interval", 4)
        n_linear = sum(1 for i in range(n) if (i + 1) % interval)
    linear = LinearAttn(n_linear, _int(cfg, "linear_num_key_heads"), _int(cfg, "linear_num_value_heads"),
                        _int(cfg, "linear_key_head_dim"), _int(cfg, "linear_value_head_dim"),
                        _opt(cfg, "linear_conv_kernel_dim", 4))
    attn = replace(arch.attn, qkv_bias=False, qk_norm=2 * arch.attn.head_dim,
                   gate=_flag(cfg, "attn_output_gate", True))
    return Arch("qwen3_next", n, arch.hidden, arch.vocab, arch.tied, attn, arch.moe_layers, arch.dense_ff,
                arch.n_experts, arch.k, arch.expert_ff, arch.shared_ff, arch.n_shared, shared_gate=arch.shared_gate,
                linear=linear if n_linear else None)


def _olmoe(cfg: dict[str, Any]) -> Arch:
    """OLMoE (``modeling_olmoe.py``): every layer MoE; q_norm over d, k_norm over n_kv·head_dim."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    n_experts, k = _int(cfg, "num_experts"), _int(cfg, "num_experts_per_tok")
    _check_experts(cfg, n_experts, k)
    attn = _gqa(cfg, qkv_bias=_flag(cfg, "attention_bias", False))
    attn = Attn(attn.kind, attn.n_heads, attn.n_kv_heads, attn.head_dim, attn.v_head_dim,
                qkv_bias=attn.qkv_bias, o_bias=attn.qkv_bias,
                qk_norm=d + attn.n_kv_heads * attn.head_dim)
    return Arch("olmoe", n_layers, d, _int(cfg, "vocab_size"),
                _flag(cfg, "tie_word_embeddings", False), attn, tuple(range(n_layers)), 0,
                n_experts, k, _int(cfg, "intermediate_size"))


def _gpt_oss(cfg: dict[str, Any]) -> Arch:
    """gpt-oss (``modeling_gpt_oss.py``): biased q/k/v/o, attention sinks, biased router and
    experts (gate_up d×2f + 2f, down f×d + d), alternating sliding/full layers."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    n_experts = _int(cfg, "num_local_experts")
    k = _opt(cfg, "num_experts_per_tok", _opt(cfg, "experts_per_token", 0))
    _check_experts(cfg, n_experts, k)
    attn = _gqa(cfg, qkv_bias=_flag(cfg, "attention_bias", False),
                o_bias=_flag(cfg, "attention_bias", False), sinks=True)
    window, n_sliding = _sliding(cfg, n_layers)
    return Arch("gpt_oss", n_layers, d, _int(cfg, "vocab_size"),
                _flag(cfg, "tie_word_embeddings", False), attn, tuple(range(n_layers)), 0,
                n_experts, k, _int(cfg, "intermediate_size"), router_bias=True, expert_bias=True,
                sliding_window=window, n_sliding=n_sliding)


def _llama4(cfg: dict[str, Any]) -> Arch:
    """Llama 4 (``modeling_llama4.py``): MoE every ``interleave_moe_layer_step`` layers (one
    shared expert, experts of ``intermediate_size``), dense layers of ``intermediate_size_mlp``;
    chunked local attention on rope layers (3 of 4), counted as a window of attention_chunk_size.
    The qk norm is a weightless L2 norm."""
    text = _sub_config(cfg, "text_config") or cfg
    n_layers, d = _int(text, "num_hidden_layers"), _int(text, "hidden_size")
    n_experts, k = _int(text, "num_local_experts"), _int(text, "num_experts_per_tok")
    _check_experts(text, n_experts, k)
    step = _opt(text, "interleave_moe_layer_step", 1)
    moe_layers = _layer_list(text, "moe_layers", n_layers)
    moe = tuple(range(step - 1, n_layers, step) if moe_layers is None else moe_layers)
    f = _int(text, "intermediate_size")
    chunk = _window(text, "attention_chunk_size")
    interval = _opt(text, "no_rope_layer_interval", 4)
    no_rope = _opt_list(text, "no_rope_layers")
    if no_rope is None:
        no_rope = [int((i + 1) % interval != 0) for i in range(n_layers)]
    n_chunked = sum(1 for x in no_rope if x) if chunk else 0
    return Arch("llama4", n_layers, d, _int(text, "vocab_size"),
                _flag(text, "tie_word_embeddings", False),
                _gqa(text, qkv_bias=_flag(text, "attention_bias", False),
                     o_bias=_flag(text, "attention_bias", False)), moe,
                _opt(text, "intermediate_size_mlp", f), n_experts, k, f, f, 1,
                sliding_window=chunk if n_chunked else None, n_sliding=n_chunked,
                vision=_llama4_vision(_sub_config(cfg, "vision_config"), d))


def _llama4_vision(vc: dict[str, Any] | None, text_hidden: int) -> int:
    """Vision tower + projector of Llama 4 (``modeling_llama4.py`` Llama4Vision*)."""
    if not vc:
        return 0
    h, f, n = _int(vc, "hidden_size"), _int(vc, "intermediate_size"), _int(vc, "num_hidden_layers")
    patches = (_int(vc, "image_size") // _int(vc, "patch_size")) ** 2 + 1
    layer = 4 * (h * h + h) + (h * f + f) + (f * h + h) + 4 * h  # biased attn, fc1/fc2, 2 LayerNorms
    stem = _int(vc, "num_channels") * _int(vc, "patch_size") ** 2 * h + h + patches * h + 4 * h
    ratio = _get(vc, "pixel_shuffle_ratio", 0.5)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise HarnessError(f"config.json field 'vision_config.pixel_shuffle_ratio' is {ratio!r}, "
                           "expected a number above 0 and at most 1 — fix the file")
    shuffled = int(h / ratio ** 2)
    adapter = shuffled * _int(vc, "projector_input_dim") + \
        _int(vc, "projector_input_dim") * _int(vc, "projector_output_dim")
    projector = _int(vc, "vision_output_dim") * text_hidden
    return n * layer + stem + adapter + projector


def _dense(cfg: dict[str, Any]) -> Arch:
    """Dense Llama / Mistral / Qwen2 (q/k/v biases) / Qwen3 (q/k norms), for contrast."""
    n_layers, d = _int(cfg, "num_hidden_layers"), _int(cfg, "hidden_size")
    kind = cfg["model_type"]
    bias = kind == "qwen2" or _flag(cfg, "attention_bias", False)
    attn = _gqa(cfg, qkv_bias=bias, o_bias=kind == "llama" and bias, qk_norm=kind == "qwen3")
    window, n_sliding = _sliding(cfg, n_layers)
    return Arch(kind, n_layers, d, _int(cfg, "vocab_size"), _flag(cfg, "tie_word_embeddings", False),
                attn, (), _int(cfg, "intermediate_size"), mlp_bias=_flag(cfg, "mlp_bias", False),
                sliding_window=window, n_sliding=n_sliding)


FAMILIES: dict[str, Callable[[dict[str, Any]], Arch]] = {
    "deepseek_v2": _deepseek, "deepseek_v3": _deepseek, "deepseek_v32": _deepseek, "kimi_k2": _deepseek,
    "glm4_moe": _glm4_moe, "qwen2_moe": _qwen_moe, "qwen3_moe": _qwen_moe,
    "mixtral": _mixtral, "olmoe": _olmoe, "gpt_oss": _gpt_oss, "minimax_m2": _minimax_m2,
    "qwen3_next": _qwen3_next,
    "llama4": _llama4, "llama4_text": _llama4,
    "llama": _dense, "mistral": _dense, "qwen2": _dense, "qwen3": _dense,
}


def parse_arch(cfg: dict[str, Any]) -> Arch:
    """The family reader for ``cfg['model_type']``; a one-line error for unknown families."""
    if not isinstance(cfg, dict):
        raise HarnessError("config.json is not a JSON object — pass a Hugging Face config.json")
    model_type = cfg.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        raise HarnessError(f"config.json field 'model_type' is a {type(model_type).__name__}, "
                           f"expected a string, one of: {', '.join(sorted(FAMILIES))} — fix the file")
    reader = FAMILIES.get(model_type)  # type: ignore[arg-type]
    text = cfg.get("text_config")
    if reader is None and isinstance(text, dict) and isinstance(text.get("model_type"), str) \
            and text["model_type"] in FAMILIES:
        return parse_arch(text)  # a multimodal wrapper around a known text model
    if model_type is None:
        raise HarnessError("config.json lacks 'model_type' — use the model's complete "
                           "config.json from its Hugging Face repository")
    if reader is None:
        raise HarnessError(f"config.json model_type {model_type!r} is not a family moebench reads "
                           f"— supported: {', '.join(sorted(FAMILIES))}")
    return reader(cfg)


def shape_from_config(cfg: dict[str, Any], model_id: str, source: str) -> ModelShape:
    """``ModelShape`` of a parsed config.json."""
    arch = parse_arch(cfg)
    params = count_params(arch)
    active = active_from(params, arch.n_experts, arch.k)
    a, lin = arch.attn, arch.linear
    return check_shape(ModelShape(
        id=model_id, family=arch.family, source=source, n_layers=arch.n_layers,
        n_moe_layers=len(arch.moe_layers), n_dense_layers=arch.n_layers - len(arch.moe_layers),
        hidden_size=arch.hidden, vocab_size=arch.vocab, n_routed_experts=arch.n_experts,
        experts_per_token=arch.k, n_shared_experts=arch.n_shared,
        expert_params=expert_weights(arch) if arch.n_experts else 0,
        attention_kind=a.kind, n_heads=a.n_heads, n_kv_heads=a.n_kv_heads, head_dim=a.head_dim,
        kv_lora_rank=a.kv_lora_rank, qk_rope_head_dim=a.rope_dim,
        sliding_window=arch.sliding_window, n_sliding_layers=arch.n_sliding,
        params=params, active_params=active, read_params=read_from(active, arch.hidden, arch.vocab),
        v_head_dim=a.v_head_dim if a.v_head_dim != a.head_dim else None,
        n_mtp_layers=arch.n_mtp, vision_params=arch.vision,
        index_topk=a.index_topk, index_n_heads=a.index_n_heads, index_head_dim=a.index_head_dim,
        n_linear_layers=lin.n_layers if lin else 0,
        linear_state_elems=lin.n_layers * lin.state_elems() if lin else 0,
        linear_flops_per_token=lin.n_layers * lin.flops_per_token() if lin else 0.0,
    ))
