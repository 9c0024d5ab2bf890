"""Quant recipes: bytes per weight by tensor class, as real releases store them.

Storage formats are costed from their block layouts; recipes say which class gets which format,
following what common releases do (llama.cpp's ``llama_tensor_get_type`` mixes, DeepSeek's FP8
checkpoint, gpt-oss's MXFP4 experts). A recipe may mix formats by class
(``experts=q4_k_m,attention=q8_0``) or state an average size (``3.54bpw``), optionally with the
format its non-expert tensors are kept in (``4.93bpw@q5_k``; Q8_0 when not said).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.errors import HarnessError
from harness.workload.shape import TENSOR_CLASSES

if TYPE_CHECKING:
    from harness.workload.shape import ModelShape

# Bits per weight of each storage format, from its block layout.
# ggml formats: struct sizes in ggml/src/ggml-common.h (QK_K = 256 weights per super-block).
FORMAT_BPW: dict[str, float] = {
    "f32": 32.0,
    "bf16": 16.0,
    "f16": 16.0,
    # DeepSeek-V3 FP8 checkpoint: e4m3 weights + one fp32 `weight_scale_inv` per 128×128 block.
    "fp8_b128": 8.0 + 32.0 / (128 * 128),
    # W8A8 int8 with a per-output-channel scale: < 0.01 bit per weight for rows of ≥ 2048.
    "int8": 8.0,
    # AWQ/GPTQ int4, group 128: 4-bit weights + fp16 scale + 4-bit zero point per 128 weights.
    "int4_g128": 4.0 + (16.0 + 4.0) / 128,
    "q8_0": 34 * 8 / 32,  # block_q8_0: fp16 d + 32 int8 = 34 B / 32 w = 8.5
    "q6_k": 210 * 8 / 256,  # block_q6_K: ql[128] qh[64] scales[16] d(2) = 210 B -> 6.5625
    "q5_k": 176 * 8 / 256,  # block_q5_K: d,dmin(4) scales[12] qh[32] qs[128] = 176 B -> 5.5
    "q4_k": 144 * 8 / 256,  # block_q4_K: d,dmin(4) scales[12] qs[128] = 144 B -> 4.5
    "q4_0": 18 * 8 / 32,  # block_q4_0: fp16 d + 16 B = 18 B / 32 w -> 4.5
    "q3_k": 110 * 8 / 256,  # block_q3_K: hmask[32] qs[64] scales[12] d(2) = 110 B -> 3.4375
    "q2_k": 84 * 8 / 256,  # block_q2_K: scales[16] qs[64] d,dmin(4) = 84 B -> 2.625
    "iq4_xs": 136 * 8 / 256,  # block_iq4_xs: d(2) scales_h(2) scales_l[4] qs[128] = 136 B -> 4.25
    "iq2_xxs": 66 * 8 / 256,  # block_iq2_xxs: d(2) + qs[32] uint16 = 66 B -> 2.0625
    "iq1_s": 50 * 8 / 256,  # block_iq1_s: d(2) qs[32] qh[8] uint16 = 50 B -> 1.5625
    # OCP MX spec: 32 fp4 (e2m1) weights share one e8m0 scale: 17 B / 32 w -> 4.25.
    "mxfp4": 17 * 8 / 32,
    # NVIDIA NVFP4: 16 fp4 (e2m1) weights share one FP8 (e4m3) scale, plus one FP32 scale per tensor
    # (NVIDIA Blackwell NVFP4 introduction; TensorRT Model Optimizer): 4 + 8/16 -> 4.5.
    "nvfp4": 4.0 + 8.0 / 16,
    # More llama.cpp i-quants (ggml-common.h, 256-weight super-blocks unless said).
    "iq4_nl": 18 * 8 / 32,  # block_iq4_nl: fp16 d + qs[16] per 32 w -> 4.5
    "iq3_s": 110 * 8 / 256,  # block_iq3_s: d(2) qs[64] qh[8] signs[32] scales[4] = 110 B -> 3.4375
    "iq3_xxs": 98 * 8 / 256,  # block_iq3_xxs: d(2) qs[96] = 98 B -> 3.0625
    "iq2_s": 82 * 8 / 256,  # block_iq2_s: d(2) qs[64] qh[8] scales[8] = 82 B -> 2.5625
    "iq2_xs": 74 * 8 / 256,  # block_iq2_xs: d(2) qs[32] uint16 scales[8] = 74 B -> 2.3125
    "iq1_m": 56 * 8 / 256,  # block_iq1_m: qs[32] qh[16] scales[8] = 56 B -> 1.75
    # ik_llama.cpp's own types (ikawrakow/ik_llama.cpp ggml/src/ggml-common.h). The _KS/_KSS/_KL
    # types also store one 2- or 4-byte scale per row (a row has thousands of weights: < 0.005 bpw,
    # left out).
    "iq6_k": 212 * 8 / 256,  # block_iq6_k: d(2) extra(2) scales[16] qs[128] qh[64] = 212 B -> 6.625
    "iq5_k": 176 * 8 / 256,  # block_iq5_k: d(2) extra(2) scales_h[4] scales_l[8] qs[128] qh[32] -> 5.5
    "iq5_ks": 168 * 8 / 256,  # block_iq5_ks: scales[8] qs[128] qh[32] = 168 B -> 5.25
    "iq4_k": 144 * 8 / 256,  # block_iq4_k: d(2) extra(2) scales_h[4] scales_l[8] qs[128] -> 4.5
    "iq4_ks": 136 * 8 / 256,  # block_iq4_ks: scales[8] qs[128] = 136 B -> 4.25
    "iq4_kss": 128 * 8 / 256,  # block_iq4_kss: qs[32] uint32 = 128 B -> 4.0
    "iq3_k": 110 * 8 / 256,  # block_iq3_k: d(2) extra(2) scales_h(2) scales_l[8] qs[64] qh[32] -> 3.4375
    "iq3_ks": 102 * 8 / 256,  # block_iq3_ks: extra(2) scales[4] qs[64] qh[32] = 102 B -> 3.1875
    "iq2_kl": 86 * 8 / 256,  # block_iq2_kl: scales_h(2) scales_l[4] qs[64] qh[16] = 86 B -> 2.6875
    "iq2_k": 76 * 8 / 256,  # block_iq2_k: d(2) extra(2) scales[8] qs[64] = 76 B -> 2.375
    "iq2_ks": 70 * 8 / 256,  # block_iq2_ks: extra(2) scales[4] qs[64] = 70 B -> 2.1875
}

# llama.cpp src/llama-quant.cpp (llama_tensor_get_type): the output tensor is Q5_K for the IQ1/IQ2/IQ3_XXS
# ftypes and Q6_K otherwise; token_embd is Q2_K for IQ2_XS / IQ1_M and IQ3_S for IQ2_S / IQ3_XXS. The
# ik_llama.cpp types follow the same rule by size (below 3 bpw: Q5_K head); IQ6_K keeps a Q8_0 head
# rather than one smaller than its body.
_PLAIN_HEAD = {"iq3_xxs": "q5_k", "iq2_s": "q5_k", "iq2_xs": "q5_k", "iq1_m": "q5_k", "iq2_kl": "q5_k",
               "iq2_k": "q5_k", "iq2_ks": "q5_k", "iq6_k": "q8_0"}
_PLAIN_EMBD = {"iq2_xs": "q2_k", "iq1_m": "q2_k", "iq2_s": "iq3_s", "iq3_xxs": "iq3_s"}
# Formats that have a recipe of their own (the format throughout).
_PLAIN_FORMATS = ("iq4_nl", "iq3_s", "iq3_xxs", "iq2_s", "iq2_xs", "iq1_m", "iq6_k", "iq5_k", "iq5_ks",
                  "iq4_k", "iq4_ks", "iq4_kss", "iq3_k", "iq3_ks", "iq2_kl", "iq2_k", "iq2_ks")

# llama.cpp ffn_down / attn_v "use_more_bits": i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2,
# about half of the layers.
_MORE_BITS = 0.5

QUANT_NAMES: tuple[str, ...] = (
    "bf16", "fp16", "fp8", "int8", "int4", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0",
    "q3_k_m", "q2_k", "iq4_xs", "iq2_xxs", "iq1_s", "mxfp4", "mxfp4_all", "nvfp4", *_PLAIN_FORMATS,
)

_WEIGHT_CLASSES = ("attention", "dense_mlp", "shared_experts", "routed_experts", "mtp")


def _ffn(gate_up: str, down: str, down_more: str | None = None, more: float = _MORE_BITS) -> float:
    """bpw of a gated MLP (gate, up, down equal in size) whose down matrix is partly bumped."""
    down_bpw = FORMAT_BPW[down] if down_more is None else (
        more * FORMAT_BPW[down_more] + (1 - more) * FORMAT_BPW[down])
    return (2 * FORMAT_BPW[gate_up] + down_bpw) / 3


def _table(linear: float, *, embedding: float, lm_head: float, norms: float = 32.0,
           router: float = 32.0, attention: float | None = None,
           ffn: float | None = None) -> dict[str, float]:
    """bpw by class. GGUF defaults: norms and ffn_gate_inp stay F32 (llama.cpp never quantizes
    1-D tensors or the expert router)."""
    table = {c: linear for c in _WEIGHT_CLASSES}
    if ffn is not None:
        table.update(dense_mlp=ffn, shared_experts=ffn, routed_experts=ffn, mtp=ffn)
    if attention is not None:
        table["attention"] = attention
    table.update(embedding=embedding, lm_head=lm_head, norms=norms, router=router)
    return table


def _native(linear: str, keep: str = "bf16") -> dict[str, float]:
    """A safetensors checkpoint: linear layers in ``linear``; embedding, lm_head, norms and
    router in BF16 (DeepSeek-V3 FP8, AWQ/GPTQ and W8A8 releases all keep those unquantized)."""
    k = FORMAT_BPW[keep]
    return _table(FORMAT_BPW[linear], embedding=k, lm_head=k, norms=k, router=k)


def _uniform(bpw: float) -> dict[str, float]:
    return {c: bpw for c in TENSOR_CLASSES}


# Named recipes: bpw by class. k-quant mixes follow llama.cpp src/llama-quant.cpp
# (llama_tensor_get_type): the output tensor goes to Q6_K (Q5_K for IQ1/IQ2 ftypes), ffn_down
# and attn_v get more bits in some layers. attn_v exists only in GQA models (< 6% of attention);
# its bump is left out here and is exact when a GGUF header is read.
RECIPES: dict[str, dict[str, float]] = {
    "bf16": _uniform(16.0),
    "fp16": _uniform(16.0),
    "fp8": _native("fp8_b128"),
    "int8": _native("int8"),
    "int4": _native("int4_g128"),
    "q8_0": _table(8.5, embedding=8.5, lm_head=8.5),
    "q6_k": _table(FORMAT_BPW["q6_k"], embedding=FORMAT_BPW["q6_k"], lm_head=FORMAT_BPW["q6_k"]),
    # Q5_K_M: Q5_K, ffn_down and attn_v at Q6_K where use_more_bits.
    "q5_k_m": _table(5.5, ffn=_ffn("q5_k", "q5_k", "q6_k"), embedding=5.5,
                     lm_head=FORMAT_BPW["q6_k"]),
    # Q4_K_M: Q4_K, ffn_down and attn_v at Q6_K where use_more_bits.
    "q4_k_m": _table(4.5, ffn=_ffn("q4_k", "q4_k", "q6_k"), embedding=4.5,
                     lm_head=FORMAT_BPW["q6_k"]),
    "q4_0": _table(4.5, embedding=4.5, lm_head=FORMAT_BPW["q6_k"]),
    # Q3_K_M: Q3_K; ffn_down Q4_K (Q5_K in the first n/16 layers); attn_output Q4_K.
    "q3_k_m": _table(FORMAT_BPW["q3_k"], embedding=FORMAT_BPW["q3_k"], lm_head=FORMAT_BPW["q6_k"],
                     ffn=_ffn("q3_k", "q4_k", "q5_k", 1 / 16),
                     attention=(FORMAT_BPW["q3_k"] + FORMAT_BPW["q4_k"]) / 2),
    # Q2_K: Q2_K; ffn_down and attn_output at Q3_K.
    "q2_k": _table(FORMAT_BPW["q2_k"], embedding=FORMAT_BPW["q2_k"], lm_head=FORMAT_BPW["q6_k"],
                   ffn=_ffn("q2_k", "q3_k"),
                   attention=(FORMAT_BPW["q2_k"] + FORMAT_BPW["q3_k"]) / 2),
    # IQ4_XS: IQ4_XS throughout, output Q6_K (llama_tensor_get_type's default for the output tensor).
    "iq4_xs": _table(FORMAT_BPW["iq4_xs"], embedding=FORMAT_BPW["iq4_xs"], lm_head=FORMAT_BPW["q6_k"]),
    # IQ2_XXS / IQ1_S: token_embd Q2_K, output Q5_K, ffn_down Q2_K in the first n/8 layers.
    "iq2_xxs": _table(FORMAT_BPW["iq2_xxs"], embedding=FORMAT_BPW["q2_k"], lm_head=5.5,
                      ffn=_ffn("iq2_xxs", "iq2_xxs", "q2_k", 1 / 8)),
    "iq1_s": _table(FORMAT_BPW["iq1_s"], embedding=FORMAT_BPW["q2_k"], lm_head=5.5,
                    ffn=_ffn("iq1_s", "iq1_s", "q2_k", 1 / 8)),
    # gpt-oss release: MoE expert weights MXFP4, everything else BF16
    # (config.json quantization_config.modules_to_not_convert).
    "mxfp4": {**_uniform(16.0), "routed_experts": FORMAT_BPW["mxfp4"], "mtp": FORMAT_BPW["mxfp4"]},
    # MXFP4 for every linear layer, output head included, quantised at load time from the release
    # above: the community vLLM build for DGX Spark (christopherowen/vllm mxfp4_v2, packaged as
    # eugr/spark-vllm-docker's `vllm-node-mxfp4`) served with `--mxfp4-layers moe,qkv,o,lm_head`
    # (jaim12005/spark-vllm-mxfp4-docker README, "Full MXFP4 Quantization Stack"). Embedding lookups,
    # norms and router stay BF16.
    "mxfp4_all": {**_table(FORMAT_BPW["mxfp4"], embedding=16.0, lm_head=FORMAT_BPW["mxfp4"], norms=16.0,
                           router=16.0)},
    # NVIDIA's NVFP4 checkpoints (TensorRT Model Optimizer; e.g. nvidia/DeepSeek-R1-FP4, whose card says
    # only the linear operators within transformer blocks are quantized): every block linear in NVFP4,
    # embedding, output head, norms and router BF16.
    "nvfp4": _native("nvfp4"),
    # The other GGUF types: the format throughout, output head and token embedding as
    # llama_tensor_get_type sets them (_PLAIN_HEAD / _PLAIN_EMBD below); its per-layer bumps of attn_v /
    # ffn_down are left out (exact when a GGUF header is read). Published ik_llama.cpp files are mostly
    # custom mixes named after their routed experts' type: write those as a mix
    # (experts=iq2_kl,attention=iq5_ks).
    **{fmt: _table(FORMAT_BPW[fmt], embedding=FORMAT_BPW[_PLAIN_EMBD.get(fmt, fmt)],
                   lm_head=FORMAT_BPW[_PLAIN_HEAD.get(fmt, "q6_k")])
       for fmt in _PLAIN_FORMATS},
}

# llama.cpp's convert_hf_to_gguf.py drops DeepSeek's MTP layers, so GGUF recipes hold none
# (a GGUF header that does carry them, e.g. GLM-4.5's nextn layer, is counted exactly).
_GGUF = {"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "q2_k", "iq4_xs", "iq2_xxs", "iq1_s",
         *_PLAIN_FORMATS}

# Names a mixed recipe may use for tensor classes.
_ALIASES: dict[str, tuple[str, ...]] = {
    **{c: (c,) for c in TENSOR_CLASSES},
    "experts": ("routed_experts",), "routed": ("routed_experts",), "exps": ("routed_experts",),
    "shared": ("shared_experts",), "shexp": ("shared_experts",),
    "attn": ("attention",), "dense": ("dense_mlp",), "mlp": ("dense_mlp",),
    "embed": ("embedding",), "token_embd": ("embedding",), "output": ("lm_head",),
    "head": ("lm_head",), "norm": ("norms",), "gate": ("router",),
}


@dataclass(frozen=True)
class QuantRecipe:
    """Bits per weight for each tensor class; ``name`` is the canonical recipe text."""

    name: str
    bits: tuple[tuple[str, float], ...] = ()  # (tensor class, bits per weight) for every class
    ships_mtp: bool = True  # whether files in this recipe carry the MTP module
    average: float | None = None  # "<N>bpw": only the file's average size is known
    keep: float | None = None  # "<N>bpw@<format>": bpw of the non-expert tensors (else Q8_0)
    # the recipe that supplies the routed experts (kernels differ by format, not only by size:
    # BF16 vs FP16 on harness.perf.prediction.gpu_kernel_penalty); None for an average size
    expert_recipe: str | None = None

    def __post_init__(self) -> None:
        if not self.bits:  # QuantRecipe("q4_k_m") is parse_quant("q4_k_m")
            parsed = parse_quant(self.name)
            object.__setattr__(self, "name", parsed.name)
            object.__setattr__(self, "bits", parsed.bits)
            object.__setattr__(self, "ships_mtp", parsed.ships_mtp)
            object.__setattr__(self, "average", parsed.average)
            object.__setattr__(self, "keep", parsed.keep)
            object.__setattr__(self, "expert_recipe", parsed.expert_recipe)

    def bits_per_weight(self, tensor_class: str) -> float:
        """Bits per weight of one tensor class."""
        for cls, bpw in self.bits:
            if cls == tensor_class:
                return bpw
        raise HarnessError(f"unknown tensor class {tensor_class!r} — use one of "
                           f"{', '.join(TENSOR_CLASSES)}")

    def bytes_per_param(self, tensor_class: str) -> float:
        """Bytes per weight of one tensor class (scales and block headers included)."""
        return self.bits_per_weight(tensor_class) / 8.0

    def bits_for(self, model: ModelShape) -> dict[str, float]:
        """Bits per weight by class for this model. An average size ("<N>bpw") of an MoE model is
        read as published mixes are built: everything but the routed experts kept at Q8_0 (8.5 bpw;
        ggml-org's gpt-oss GGUFs keep attention Q8_0 beside MXFP4 experts, ubergarm's DeepSeek mixes
        attention q8_0), the routed experts at whatever makes the average. Check: gpt-oss-120b's
        published 4.34 bpw gives experts 4.26 bpw — MXFP4's 4.25. ``@<format>`` names another
        level for the non-expert tensors (Unsloth's dynamic "UD-" GGUFs keep them at 4–6 bit)."""
        bits = dict(self.bits)
        if self.average is None or not model.params.get("routed_experts"):
            return bits
        keep = max(self.average, self.keep if self.keep is not None else FORMAT_BPW["q8_0"])
        counted = [c for c in TENSOR_CLASSES if c != "mtp"]
        total = sum(model.params[c] for c in counted)
        kept = {c: (32.0 if c == "norms" else keep) for c in counted if c != "routed_experts"}
        rest = self.average * total - sum(model.params[c] * b for c, b in kept.items())
        experts = rest / model.params["routed_experts"]
        if experts < 1.0:  # an average too low for Q8_0 everywhere else: fall back to uniform
            return bits
        return bits | kept | {"routed_experts": experts}

    def weight_bytes(self, model: ModelShape) -> dict[str, float]:
        """Resident bytes by class; exact from ``model.tensor_bytes`` when a GGUF header gave them."""
        if model.tensor_bytes is not None:
            return {c: float(model.tensor_bytes.get(c, 0)) for c in TENSOR_CLASSES}
        bits = self.bits_for(model)
        sizes = {c: model.params[c] * bits[c] / 8.0 for c in TENSOR_CLASSES}
        if not self.ships_mtp:
            sizes["mtp"] = 0.0
        return sizes

    def read_bytes(self, model: ModelShape) -> dict[str, float]:
        """Bytes read per decode token at batch 1 by class (k routed experts, one embedding row,
        the whole lm_head; MTP not read)."""
        return {c: model.read_params[c] * self._read_rate(model, c) for c in TENSOR_CLASSES}

    def _read_rate(self, model: ModelShape, cls: str) -> float:
        if model.tensor_bytes is None:
            return self.bits_for(model)[cls] / 8.0
        # A tied output head is the embedding matrix: read it at the embedding's stored size.
        src = "embedding" if cls == "lm_head" and not model.params.get("lm_head") else cls
        n = model.params.get(src, 0)
        return model.tensor_bytes.get(src, 0) / n if n else self.bytes_per_param(cls)


def gguf_experts(recipe: QuantRecipe) -> bool:
    """Whether the routed experts are in a llama.cpp / ik_llama.cpp block format (Q4_K_M, IQ2_XXS ...):
    a GGUF file, which the llama.cpp family and KTransformers load and the GPU serving engines do not."""
    return (recipe.expert_recipe or recipe.name) in _GGUF


def parse_quant(text: str) -> QuantRecipe:
    """A recipe from a name (``q4_k_m``), an average size (``3.54bpw``), or a mix by class
    (``experts=q4_k_m,attention=q8_0``; unnamed classes take a bare name in the mix if given,
    else the attention recipe, else bf16)."""
    spec = _normalise(text)
    if "=" not in spec and "," not in spec:
        return _single(spec)
    base, parts = _split_mix(spec)
    default = base or dict(parts).get("attention") or "bf16"
    bits = dict(_single(default).bits)
    for cls, part in parts:
        bits[cls] = _single(part).bits_per_weight(cls)
    ships = all(_single(p).ships_mtp for p in [default, *(p for _, p in parts)])
    experts = _single(dict(parts).get("routed_experts", default)).expert_recipe
    return QuantRecipe(spec, tuple((c, bits[c]) for c in TENSOR_CLASSES), ships, expert_recipe=experts)


def format_recipe(recipe: QuantRecipe) -> dict[str, float]:
    """Bits per weight by class, for reports."""
    return dict(recipe.bits)


def _normalise(text: str) -> str:
    spec = re.sub(r"\s+", "", str(text)).lower().replace("-", "_")
    if not spec:
        raise HarnessError(f"empty quant recipe — use one of {', '.join(QUANT_NAMES)}, "
                           "'<N>bpw', or a mix like 'experts=q4_k_m,attention=q8_0'")
    return spec


def _single(name: str) -> QuantRecipe:
    if name in RECIPES:
        table = RECIPES[name]
        return QuantRecipe(name, tuple((c, table[c]) for c in TENSOR_CLASSES), name not in _GGUF,
                           expert_recipe=name)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)bpw(?:@(\w+))?", name)
    if match:
        bpw = float(match.group(1))
        if not 0.5 <= bpw <= 32:
            raise HarnessError(f"quant {name!r}: bits per weight must be between 0.5 and 32")
        fmt = match.group(2)
        if fmt is not None and fmt not in FORMAT_BPW:
            raise HarnessError(f"quant {name!r}: unknown storage format {fmt!r} after '@' — use one of "
                               f"{', '.join(FORMAT_BPW)}")
        label = f"{bpw:g}bpw" + (f"@{fmt}" if fmt else "")
        return QuantRecipe(label, tuple((c, bpw) for c in TENSOR_CLASSES), False, average=bpw,
                           keep=FORMAT_BPW[fmt] if fmt else None)
    raise HarnessError(f"unknown quant {name!r} — use one of {', '.join(QUANT_NAMES)}, "
                       "'<N>bpw' (e.g. 3.54bpw), or a mix like 'experts=q4_k_m,attention=q8_0'")


def _split_mix(spec: str) -> tuple[str | None, list[tuple[str, str]]]:
    """(bare base recipe or None, [(tensor class, recipe)]) of a comma-separated mix."""
    base, parts, given = None, [], {}
    for item in filter(None, spec.split(",")):
        if "=" not in item:
            if base is not None:
                raise HarnessError(f"quant mix {spec!r} names two base recipes ({base}, {item}) "
                                   "— give at most one bare name")
            base = item
            continue
        key, _, value = item.partition("=")
        classes = _ALIASES.get(key)
        if classes is None:
            raise HarnessError(f"quant mix {spec!r}: unknown tensor class {key!r} — use one of "
                               f"{', '.join(sorted(_ALIASES))}")
        for c in classes:
            if c in given:
                same = f"'{key}'" if given[c] == key else f"'{given[c]}' and '{key}'"
                raise HarnessError(f"quant mix {spec!r} gives tensor class {c} twice ({same}) — "
                                   "give each class once")
            given[c] = key
        parts.extend((c, value) for c in classes)
    if base is None and not parts:
        raise HarnessError(f"quant mix {spec!r} names no recipe — use e.g. 'experts=q4_k_m,attention=q8_0'")
    return base, parts
