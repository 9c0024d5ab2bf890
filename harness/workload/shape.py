"""``ModelShape``: what one token of a model touches, by tensor class (pure data, no I/O).

Built by ``harness.workload.families`` from a Hugging Face ``config.json``, by
``harness.workload.gguf_reader`` from a GGUF header, or from the catalog. Parameter counts are
derived from the shape keys, never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.errors import HarnessError

# The tensor classes every count and every quant recipe is keyed by.
TENSOR_CLASSES: tuple[str, ...] = (
    "embedding", "attention", "dense_mlp", "shared_experts", "routed_experts",
    "router", "lm_head", "norms", "mtp",
)


@dataclass(frozen=True)
class ModelShape:
    """The shape of one model and its weights by tensor class.

    ``params``: total weights by class; the multi-token-prediction module (DeepSeek-V3, GLM-4.5)
    is under ``"mtp"`` and kept out of ``total_params``, as the model cards do.
    ``active_params``: weights activated per token (model-card convention: all non-expert weights,
    embedding and lm_head included, plus k routed experts per MoE layer; MTP excluded).
    ``read_params``: weights read from memory per decode token at batch 1: as active, but the
    embedding is one row (d weights) and the lm_head is read in full even when tied.
    """

    id: str
    family: str
    source: str
    n_layers: int
    n_moe_layers: int
    n_dense_layers: int
    hidden_size: int
    vocab_size: int
    n_routed_experts: int
    experts_per_token: int
    n_shared_experts: int
    expert_params: int
    attention_kind: str
    n_heads: int
    n_kv_heads: int
    head_dim: int
    kv_lora_rank: int | None
    qk_rope_head_dim: int | None
    sliding_window: int | None
    n_sliding_layers: int
    params: dict[str, int]
    active_params: dict[str, int]
    read_params: dict[str, int]
    tensor_bytes: dict[str, int] | None = None
    # Extensions beyond the first contract (all defaulted).
    v_head_dim: int | None = None  # value head size when it differs from head_dim (MLA: 128)
    n_mtp_layers: int = 0
    vision_params: int = 0  # vision tower + projector (Llama 4); not read when decoding text
    file_bytes: int | None = None  # safetensors index total_size or GGUF tensor data size
    # Bytes by class of safetensors shards as stored (their own dtypes), when the shards are
    # present. Informational: unlike ``tensor_bytes`` (a GGUF *is* its quant), quant recipes
    # ignore it, so a safetensors model can still be costed under any recipe.
    file_class_bytes: dict[str, int] | None = None
    # DeepSeek Sparse Attention (DeepSeek-V3.2, config index_topk / index_n_heads / index_head_dim):
    # a lightning indexer scores every cached position with its own small keys, then attention runs
    # over the index_topk best ones only (DeepSeek-V3.2-Exp tech report; inference/model.py Indexer).
    index_topk: int | None = None
    index_n_heads: int = 0
    index_head_dim: int = 0
    # Linear-attention layers (Qwen3-Next's Gated DeltaNet): no KV cache that grows with the context,
    # a fixed recurrent state per sequence instead, read and written back at every decode step.
    n_linear_layers: int = 0
    linear_state_elems: int = 0  # per sequence, all linear layers (recurrent + convolution state)
    linear_flops_per_token: float = 0.0  # per token, all linear layers: the state update and readout
    # bytes per state element: the model's BF16 by default (vLLM keeps the Gated DeltaNet state in the
    # model dtype); harness.perf.prediction sets the engine's own (llama.cpp's recurrent cache is F32)
    linear_state_dtype_bytes: float = 2.0

    @property
    def linear_state_bytes(self) -> float:
        """Bytes of the linear-attention state of one sequence."""
        return self.linear_state_elems * self.linear_state_dtype_bytes

    @property
    def total_params(self) -> int:
        """Total weights, MTP module and vision tower excluded."""
        return sum(v for k, v in self.params.items() if k != "mtp")

    @property
    def active_total(self) -> int:
        """Activated weights per token (model-card convention)."""
        return sum(v for k, v in self.active_params.items() if k != "mtp")

    @property
    def read_total(self) -> int:
        """Weights read per decode token at batch 1."""
        return sum(v for k, v in self.read_params.items() if k != "mtp")

    @property
    def n_full_layers(self) -> int:
        """Layers that attend over the whole context."""
        return self.n_layers - self.n_sliding_layers - self.n_linear_layers

    def kv_bytes_per_token(self, dtype_bytes: float = 2.0) -> float:
        """KV-cache bytes one token adds over all layers that keep a cache.

        MLA (DeepSeek-V2/V3 paper, sec. 2.1.2) caches the compressed latent and the decoupled
        rope key: L·(kv_lora_rank + qk_rope_head_dim), plus, under sparse attention (V3.2), the
        indexer's FP8 key and scale. GQA/MHA caches K and V: 2·L·n_kv·head_dim. Linear-attention
        layers add nothing per token (their state is fixed: ``linear_state_bytes``).
        """
        return (self.n_layers - self.n_linear_layers) * (self._kv_elems_per_layer() * dtype_bytes
                                                         + self._index_key_bytes())

    def kv_cache_bytes(self, context: int, dtype_bytes: float = 2.0) -> float:
        """KV-cache bytes for one sequence of ``context`` tokens; window layers keep their window.
        A sparse-attention model also keeps its indexer keys for every position, a linear-attention
        one its fixed state."""
        return self._cache_bytes(context, context, dtype_bytes) + self.linear_state_bytes

    def kv_read_bytes(self, context: int, dtype_bytes: float = 2.0) -> float:
        """KV-cache bytes one decode step reads for one sequence: the whole cache, except that sparse
        attention reads the latents of index_topk positions only (and every indexer key), and a
        linear-attention state is read and written back."""
        return self._cache_bytes(self._sparse(context), context, dtype_bytes) + 2.0 * self.linear_state_bytes

    def _cache_bytes(self, kv_positions: int, index_positions: int, dtype_bytes: float) -> float:
        return (self._kv_elems_per_layer() * dtype_bytes * self._attended_tokens(kv_positions)
                + self._index_key_bytes() * self._attended_tokens(index_positions))

    def _index_key_bytes(self) -> float:
        """Bytes of one position's indexer key in one layer: FP8 elements plus one FP32 scale per
        128 (DeepSeek-V3.2 inference/model.py: k_cache float8_e4m3fn, k_scale_cache float32)."""
        if not self.index_topk:
            return 0.0
        return self.index_head_dim * 1.0 + 4.0 * -(-self.index_head_dim // 128)

    def attention_flops_per_token(self, context: int) -> float:
        """FLOPs of QK^T and AV for one new token attending over ``context`` positions.

        Per layer 2·H·(qk_dim + v_dim)·positions (multiply-add = 2 FLOPs). MLA is counted in its
        un-absorbed form (qk_dim = nope + rope = 192, v_dim = 128), the model's own arithmetic. Sparse
        attention covers index_topk positions and adds the indexer's scores over all of them;
        linear-attention layers add their fixed state update.
        """
        qk_dim = self.head_dim
        v_dim = self.v_head_dim or self.head_dim
        return (2.0 * self.n_heads * (qk_dim + v_dim) * self._attended_tokens(self._sparse(context))
                + self._indexer_flops(context) + self.linear_flops_per_token)

    def _sparse(self, context: int) -> int:
        """Positions the main attention of one query covers (index_topk under sparse attention)."""
        return min(context, self.index_topk) if self.index_topk else context

    def _indexer_flops(self, context: int) -> float:
        """The lightning indexer's scores: every indexer head against every cached key."""
        return 2.0 * self.index_n_heads * self.index_head_dim * self._attended_tokens(context) if self.index_topk else 0.0

    def decode_attention_flops_per_token(self, context: int) -> float:
        """FLOPs of attention for one decoded token over ``context`` cached positions, in the form
        decode kernels compute it. MLA decodes in the absorbed form (FlashMLA, FlashInfer MLA, the
        MLA paths of vLLM/SGLang/KTransformers/llama.cpp): every head scores the cached latent plus
        rope key (kv_lora + rope = 576) and sums the latents (kv_lora = 512), which is more
        arithmetic than the un-absorbed form but reads only the compressed cache. GQA/MHA as above."""
        if self.attention_kind == "mla":
            lat = self.kv_lora_rank or 0
            return (2.0 * self.n_heads * (lat + (self.qk_rope_head_dim or 0) + lat)
                    * self._attended_tokens(self._sparse(context)) + self._indexer_flops(context))
        return self.attention_flops_per_token(context)

    def _kv_elems_per_layer(self) -> int:
        if self.attention_kind == "mla":
            return (self.kv_lora_rank or 0) + (self.qk_rope_head_dim or 0)
        return self.n_kv_heads * (self.head_dim + (self.v_head_dim or self.head_dim))

    def as_mha(self) -> ModelShape:
        """An MLA model as an engine without MLA kernels runs it: the latent expanded into every
        head's key (nope + rope = 192 for DeepSeek-V3) and value (128), all of them cached and read
        (61·128·(192 + 128) = 2.5M elements per token where MLA caches 61·576 = 35k). Other models as they are."""
        if self.attention_kind != "mla":
            return self
        return replace(self, attention_kind="mha", n_kv_heads=self.n_heads, kv_lora_rank=None)

    def _attended_tokens(self, context: int) -> int:
        """Σ over layers of the positions each layer attends to (window layers capped)."""
        window = min(context, self.sliding_window) if self.sliding_window else context
        return self.n_full_layers * context + self.n_sliding_layers * window


# The range each size of a shape may take, whatever file it came from: far beyond any published
# model (DeepSeek-V3: 61 layers, hidden 7168, 256 experts; Llama 3.1 405B: 126 layers, hidden
# 16384), so only a damaged or foreign file is refused. A GGUF header is not range-checked
# field by field as config.json is (harness.workload.families), so this is its check.
SHAPE_LIMITS: dict[str, tuple[int, int]] = {
    "n_layers": (1, 10_000), "hidden_size": (1, 1 << 20), "vocab_size": (1, 1 << 24),
    "n_heads": (1, 1 << 16), "n_kv_heads": (1, 1 << 16), "head_dim": (1, 1 << 16),
    "n_routed_experts": (0, 1 << 16), "experts_per_token": (0, 1 << 16),
    "n_mtp_layers": (0, 100), "n_sliding_layers": (0, 10_000),
    "index_n_heads": (0, 1 << 16), "index_head_dim": (0, 1 << 16), "n_linear_layers": (0, 10_000),
}


def check_shape(shape: ModelShape) -> ModelShape:
    """``shape`` if every size lies in ``SHAPE_LIMITS`` and the sizes agree with each other."""
    where = shape.source
    for name, (lo, hi) in SHAPE_LIMITS.items():
        value = getattr(shape, name)
        if not lo <= value <= hi:
            raise HarnessError(f"{where}: {name} is {value}, expected {lo} to {hi} — the file is "
                               "damaged or not a model this harness reads")
    if shape.n_kv_heads > shape.n_heads:
        raise HarnessError(f"{where}: {shape.n_kv_heads} KV heads but {shape.n_heads} attention "
                           "heads — the file is damaged")
    if shape.attention_kind == "mla" and not (shape.kv_lora_rank or 0) > 0:
        raise HarnessError(f"{where}: MLA attention with kv_lora_rank {shape.kv_lora_rank} — the "
                           "file is damaged")
    if shape.n_routed_experts and not 0 < shape.experts_per_token <= shape.n_routed_experts:
        raise HarnessError(f"{where}: {shape.experts_per_token} experts per token of "
                           f"{shape.n_routed_experts} — the file is damaged")
    if shape.index_topk is not None and not (shape.index_topk > 0 and shape.index_n_heads > 0
                                             and shape.index_head_dim > 0):
        raise HarnessError(f"{where}: sparse attention with index_topk {shape.index_topk}, "
                           f"{shape.index_n_heads} indexer heads of {shape.index_head_dim} — the file is damaged")
    if shape.n_sliding_layers + shape.n_linear_layers > shape.n_layers:
        raise HarnessError(f"{where}: {shape.n_sliding_layers} sliding-window and {shape.n_linear_layers} "
                           f"linear-attention layers of {shape.n_layers} — the file is damaged")
    if not 0 <= shape.n_moe_layers <= shape.n_layers:
        raise HarnessError(f"{where}: {shape.n_moe_layers} MoE layers of {shape.n_layers} — the file is damaged")
    return shape
