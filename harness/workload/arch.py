"""A model's architecture normalised across families (``Arch``: attention, linear-attention layers,
experts, layers) and the weights it has by tensor class. Tensor lists follow the transformers
modelling files (``modeling_deepseek_v3.py``, ``modeling_qwen3_moe.py``, ``modeling_gpt_oss.py``, ...)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attn:
    """Attention block shape. ``head_dim`` is the query/key head size; ``v_head_dim`` the value's."""

    kind: str  # "mla" | "gqa" | "mha"
    n_heads: int
    n_kv_heads: int
    head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    rope_dim: int | None = None
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: int = 0  # norm weights inside attention per layer (q/k norms, MLA latent norms)
    sinks: bool = False  # gpt-oss: one learned sink logit per head
    # DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2): heads, head size, positions kept
    index_n_heads: int = 0
    index_head_dim: int = 0
    index_topk: int | None = None
    gate: bool = False  # Qwen3-Next: q_proj also produces a sigmoid gate on the attention output


@dataclass(frozen=True)
class LinearAttn:
    """Gated DeltaNet layers (Qwen3-Next, ``modeling_qwen3_next.py`` Qwen3NextGatedDeltaNet): ``n_layers``
    of them, ``n_k``/``n_v`` key/value heads of ``d_k``/``d_v``, a causal convolution of ``conv`` taps."""

    n_layers: int
    n_k: int
    n_v: int
    d_k: int
    d_v: int
    conv: int

    def weights(self, d: int) -> int:
        """in_proj_qkvz d → 2·K + 2·V, in_proj_ba d → 2·n_v, conv1d (2·K + V)·conv, dt_bias and A_log,
        the gated RMSNorm over d_v, out_proj V → d (K = n_k·d_k, V = n_v·d_v)."""
        key, val = self.n_k * self.d_k, self.n_v * self.d_v
        return d * (2 * key + 2 * val) + d * 2 * self.n_v + (2 * key + val) * self.conv + 2 * self.n_v \
            + self.d_v + val * d

    def state_elems(self) -> int:
        """Per sequence and layer: the recurrent state n_v·d_k·d_v and the convolution's last conv-1 inputs."""
        return self.n_v * self.d_k * self.d_v + (2 * self.n_k * self.d_k + self.n_v * self.d_v) * (self.conv - 1)

    def flops_per_token(self) -> float:
        """Per token and layer: decay the state, add k⊗v, read it out with q (3 passes over n_v·d_k·d_v, 2
        FLOPs each) — constant, whatever the context."""
        return 6.0 * self.n_v * self.d_k * self.d_v


@dataclass(frozen=True)
class Arch:
    """A config reduced to the numbers the counts need."""

    family: str
    n_layers: int
    hidden: int
    vocab: int
    tied: bool
    attn: Attn
    moe_layers: tuple[int, ...]  # indices of MoE layers
    dense_ff: int  # intermediate size of dense-MLP layers
    n_experts: int = 0
    k: int = 0
    expert_ff: int = 0
    shared_ff: int = 0  # total intermediate size of the shared expert block (n_shared · f)
    n_shared: int = 0
    shared_gate: bool = False  # Qwen2-MoE: sigmoid gate d -> 1 on the shared expert
    router_bias: bool = False  # gpt-oss router bias; DeepSeek-V3 e_score_correction_bias
    expert_bias: bool = False  # gpt-oss expert biases
    mlp_bias: bool = False
    n_mtp: int = 0
    sliding_window: int | None = None
    n_sliding: int = 0
    vision: int = 0
    linear: "LinearAttn | None" = None  # linear-attention layers (Qwen3-Next), if any


# ---------------------------------------------------------------------------- counting

def attention_weights(a: Attn, d: int) -> int:
    """Projection weights (+ biases, sinks) of one attention block, norms excluded."""
    if a.kind == "mla":
        q_out = a.n_heads * a.head_dim
        q = d * a.q_lora_rank + a.q_lora_rank * q_out if a.q_lora_rank else d * q_out
        kv = d * (a.kv_lora_rank + a.rope_dim) + a.kv_lora_rank * a.n_heads * (
            a.head_dim - a.rope_dim + a.v_head_dim)
        # attention_bias in modeling_deepseek: q_a_proj (or q_proj), kv_a_proj_with_mqa, o_proj
        bias = ((a.q_lora_rank or q_out) + a.kv_lora_rank + a.rope_dim + d) if a.qkv_bias else 0
        return q + kv + a.n_heads * a.v_head_dim * d + bias + _indexer_weights(a, d)
    q_out, kv_out = a.n_heads * a.head_dim, a.n_kv_heads * a.head_dim
    weights = d * (q_out * (2 if a.gate else 1) + 2 * kv_out) + q_out * d
    bias = (q_out + 2 * kv_out if a.qkv_bias else 0) + (d if a.o_bias else 0)
    return weights + bias + (a.n_heads if a.sinks else 0)


def _indexer_weights(a: Attn, d: int) -> int:
    """DeepSeek-V3.2's lightning indexer (inference/model.py ``Indexer``): wq_b q_lora → heads·dim,
    wk d → dim, k_norm LayerNorm (weight + bias), weights_proj d → heads."""
    if not a.index_topk:
        return 0
    h, hd = a.index_n_heads, a.index_head_dim
    return (a.q_lora_rank or d) * h * hd + d * hd + 2 * hd + d * h


def expert_weights(arch: Arch) -> int:
    """One routed expert in one layer: gate, up, down = 3·d·f (+ gpt-oss biases 2f + d)."""
    d, f = arch.hidden, arch.expert_ff
    return 3 * d * f + ((2 * f + d) if arch.expert_bias else 0)


def _moe_block(arch: Arch) -> dict[str, int]:
    d = arch.hidden
    return {
        "routed_experts": arch.n_experts * expert_weights(arch),
        "shared_experts": 3 * d * arch.shared_ff + (d if arch.shared_gate else 0),
        "router": arch.n_experts * d + (arch.n_experts if arch.router_bias else 0),
    }


def _mtp_weights(arch: Arch) -> int:
    """One DeepSeek-V3 MTP module (paper sec. 2.2): a full MoE decoder layer, eh_proj 2d×d,
    enorm, hnorm and the shared head's norm; embedding and output head are shared, not counted."""
    d = arch.hidden
    layer = attention_weights(arch.attn, d) + arch.attn.qk_norm + 2 * d
    return layer + sum(_moe_block(arch).values()) + 2 * d * d + 3 * d


def count_params(arch: Arch) -> dict[str, int]:
    """Total weights by tensor class."""
    d, n_moe = arch.hidden, len(arch.moe_layers)
    n_dense = arch.n_layers - n_moe
    moe = _moe_block(arch)
    dense = 3 * d * arch.dense_ff + ((2 * arch.dense_ff + d) if arch.mlp_bias else 0)
    n_lin = arch.linear.n_layers if arch.linear else 0
    return {
        "embedding": arch.vocab * d,
        "attention": (arch.n_layers - n_lin) * attention_weights(arch.attn, d)
        + (n_lin * arch.linear.weights(d) if arch.linear else 0),
        "dense_mlp": n_dense * dense,
        "shared_experts": n_moe * moe["shared_experts"],
        "routed_experts": n_moe * moe["routed_experts"],
        "router": n_moe * moe["router"],
        "lm_head": 0 if arch.tied else arch.vocab * d,
        "norms": arch.n_layers * 2 * d + (arch.n_layers - n_lin) * arch.attn.qk_norm + d,
        "mtp": arch.n_mtp * _mtp_weights(arch),
    }


def active_from(params: dict[str, int], n_experts: int, k: int) -> dict[str, int]:
    """Activated per token, model-card convention: routed experts scaled by k/E, MTP left out."""
    active = dict(params)
    if n_experts:
        active["routed_experts"] = params["routed_experts"] * k // n_experts
    active["mtp"] = 0
    return active


def read_from(active: dict[str, int], hidden: int, vocab: int) -> dict[str, int]:
    """Read per decode token at batch 1: one embedding row, the whole output head (tied or not)."""
    read = dict(active)
    read["embedding"] = hidden
    read["lm_head"] = vocab * hidden
    return read
