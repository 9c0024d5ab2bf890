"""A plain-dict summary of a ``ModelShape`` (what ``moebench models`` prints; pure)."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from harness.workload.shape import ModelShape

# Bytes per KV-cache element: 0.25 (2-bit) to 4 (fp32), the range predict accepts too.
KV_BYTES_RANGE = (0.25, 4.0)


def check_kv_bytes(kv_dtype_bytes: float) -> float:
    """``kv_dtype_bytes`` if it lies in ``KV_BYTES_RANGE`` (NaN and infinities never do)."""
    lo, hi = KV_BYTES_RANGE
    if isinstance(kv_dtype_bytes, bool) or not isinstance(kv_dtype_bytes, (int, float)) \
            or not lo <= kv_dtype_bytes <= hi:
        raise HarnessError(f"--kv-bytes must be between {lo:g} and {hi:g} bytes per KV-cache "
                           f"element (2 = fp16/bf16, 1 = fp8/q8), got {kv_dtype_bytes}")
    return kv_dtype_bytes


def summarize_model(shape: ModelShape, recipe: Any = None, kv_dtype_bytes: float = 2.0
                    ) -> dict[str, Any]:
    """id, family, totals, per-class breakdown and KV bytes per token; with a
    ``harness.workload.quant.QuantRecipe``, also resident and per-token bytes by class."""
    check_kv_bytes(kv_dtype_bytes)
    row: dict[str, Any] = {
        "id": shape.id, "family": shape.family, "source": shape.source,
        "total_params": shape.total_params, "active_params": shape.active_total,
        "read_params_per_token": shape.read_total,
        "mtp_params": shape.params.get("mtp", 0), "vision_params": shape.vision_params,
        "params": dict(shape.params), "active_params_by_class": dict(shape.active_params),
        "read_params_by_class": dict(shape.read_params),
        "layers": shape.n_layers, "moe_layers": shape.n_moe_layers,
        "routed_experts": shape.n_routed_experts, "experts_per_token": shape.experts_per_token,
        "shared_experts": shape.n_shared_experts, "expert_params": shape.expert_params,
        "attention": shape.attention_kind,
        "kv_bytes_per_token": shape.kv_bytes_per_token(kv_dtype_bytes),
        "kv_dtype_bytes": kv_dtype_bytes,
        "sliding_window": shape.sliding_window, "sliding_layers": shape.n_sliding_layers,
        # Qwen3-Next: fixed state per sequence of its linear-attention layers (model dtype, BF16)
        "linear_attention_layers": shape.n_linear_layers, "linear_state_bytes": shape.linear_state_bytes,
        # DeepSeek-V3.2: positions each token's attention keeps (None: all)
        "sparse_attention_topk": shape.index_topk,
        "tensor_bytes": shape.tensor_bytes, "file_bytes": shape.file_bytes,
        "file_class_bytes": shape.file_class_bytes,
    }
    if recipe is not None:
        weights, read = recipe.weight_bytes(shape), recipe.read_bytes(shape)
        row.update(quant=recipe.name, weight_bytes=weights, read_bytes_per_token=read,
                   weight_bytes_total=sum(weights.values()),
                   read_bytes_per_token_total=sum(v for k, v in read.items() if k != "mtp"))
    return row
