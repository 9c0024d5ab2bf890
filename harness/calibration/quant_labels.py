"""The quant a calibration row's label names, read as the file that ran: Unsloth dynamic and _K_XL
labels, stated mixes (experts / attention / output formats), GGUF layouts of MXFP4 releases,
builds that quantise more than their label says, and a file size in the label read as bits per
weight."""

from __future__ import annotations

import re

from harness.calibration._cells import _num
from harness.workload.quant import FORMAT_BPW, QUANT_NAMES


# Unsloth's dynamic GGUFs ("UD-" names) keep attention, dense and shared-expert tensors "in 4 or
# 6bit" (unsloth.ai/blog/deepseekr1-dynamic), not Q8_0: read as Q5_K (5.5 bpw), between the two.
_UD_KEEP = "@q5_k"


# What a format name means as a GGUF file (rows whose engine runs ggml-org's GGUFs — llama.cpp,
# ik_llama.cpp, llamafile, KoboldCpp — and that give no size): gpt-oss's MXFP4 GGUFs
# (ggml-org/gpt-oss-*-GGUF) keep every tensor but the routed experts in Q8_0 — 4.33 bpw for gpt-oss-120b
# and 4.61 for 20b, the published 4.34 / 4.63 — where the release keeps them in BF16. Ollama ships its
# own gpt-oss files (BF16 non-expert tensors, 14 GB for 20b): the release layout.
_GGUF_LAYOUTS = {"mxfp4": "q8_0,experts=mxfp4"}


_GGUF_ENGINES = ("llama.cpp", "llamafile", "koboldcpp")


# Quant names rows use for files moebench has no recipe of its own for → the nearest recipe (when the row
# states no file size, which is used instead), matched as whole words: Unsloth's "_K_XL" dynamic GGUFs
# keep their experts in the named k-quant (their non-expert tensors at 4-6 bit are close to the _K_M
# mix); "_K_S"/"_K_L" differ from "_K_M" only in a few bumped tensors; AWQ/GPTQ/W4A16 checkpoints are
# 4-bit group-128 ("int4") unless they say 8 bits (GPTQ-Int8, W8A16, W8A8: per-channel int8).
_QUANT_ALIASES = (("q8_k_xl", "q8_0"), ("q6_k_xl", "q6_k"), ("q5_k_xl", "q5_k_m"), ("q4_k_xl", "q4_k_m"),
                  ("q3_k_xl", "q3_k_m"), ("q2_k_xl", "q2_k"), ("q5_k_s", "q5_k_m"), ("q4_k_s", "q4_k_m"),
                  ("q3_k_s", "q3_k_m"), ("q3_k_l", "q3_k_m"), ("w8a8", "int8"), ("w8a16", "int8"),
                  ("int8", "int8"), ("8bit", "int8"), ("8-bit", "int8"), ("awq", "int4"), ("gptq", "int4"),
                  ("w4a16", "int4"))


def _alias(label: str) -> str | None:
    """The recipe a label's quant name stands for (``_QUANT_ALIASES``, whole words only)."""
    low = label.lower()
    for word, recipe in _QUANT_ALIASES:
        if re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", low):
            return recipe
    return None


# Tensor classes and formats as rows name them in a stated mix ("experts IQ4_XS, attn Q5_K, output
# Q6_K") → recipe mix keys and recipe names (a k-quant type stands for its _M recipe's class bits).
_MIX_CLASSES = (("experts", "experts"), ("attn", "attention"), ("output", "lm_head"))


_MIX_FORMATS = {"q5_k": "q5_k_m", "q4_k": "q4_k_m", "q3_k": "q3_k_m"}


def _stated_mix(label: str) -> str | None:
    """A recipe mix from a label that names each class's format, or None when it names none or one
    the recipes do not know."""
    parts = []
    for word, cls in _MIX_CLASSES:
        m = re.search(rf"\b{word}\s+([a-z0-9_]+)", label.lower())
        if m:
            fmt = _MIX_FORMATS.get(m.group(1), m.group(1))
            if fmt not in QUANT_NAMES:
                return None
            parts.append(f"{cls}={fmt}")
    return ",".join(parts) if len(parts) >= 2 else None


# Engine builds whose named precision is a particular file, named in a row's engine column:
# (build, precision the row names, the recipe that build really runs).
# - eugr/spark-vllm-docker's `vllm-node-mxfp4` image (christopherowen/vllm mxfp4_v2) serves gpt-oss with
#   `--mxfp4-layers moe,qkv,o,lm_head`: attention and output head in MXFP4 too
#   (jaim12005/spark-vllm-mxfp4-docker README; the recipe lines in spark-arena/recipe-registry).
# - 行云's HY90 engine ("褐蚁"): its OSDI '26 paper (arXiv 2606.10493) gives "28 tokens/s on INT4
#   DeepSeek-V3" in the abstract and measures that 28 on DeepSeek-R1 Q4_K_M, which "requires only 404GB
#   of RAM" (Sec. 4.4): its INT4 is the Q4_K_M GGUF, not a 4.16-bit AWQ/GPTQ file.
_BUILD_QUANTS = (("vllm-node-mxfp4", "mxfp4", "mxfp4_all"), ("褐蚁", "int4", "q4_k_m"),
                 ("xingyun", "int4", "q4_k_m"), ("hy90", "int4", "q4_k_m"))


# A k-quant recipe name as a storage format (``<N>bpw@<format>`` takes formats).
_RECIPE_FORMATS = {"q5_k_m": "q5_k", "q4_k_m": "q4_k", "q3_k_m": "q3_k"}


def _stated_keep(label: str) -> str | None:
    """The format a label says the attention tensors are kept in ("attn/shexp iq5_ks/iq4_ks",
    "attn q8_0", "attn Q5_K_M"), when it is a quantised one the recipes know: an average size is then
    spread with that level for the non-expert tensors instead of the Q8_0 assumed. One tensor's type
    ("attn_v q6_k", "attn_norm f32") is not a level for all of them."""
    m = re.search(r"\battn(?:/[a-z]+)*\s+([a-z0-9_]+)", label.lower())
    fmt = _RECIPE_FORMATS.get(m.group(1), m.group(1)) if m else None
    return fmt if fmt in FORMAT_BPW and fmt not in ("f32", "f16", "bf16") else None


# A file size in a label: "131GB", "(59.02 GiB)", "~193GB" — not a bandwidth ("900 GB/s") nor a memory
# that the file fits in ("fits 96 GB VRAM").
_SIZE = re.compile(r"(?:^|[\s(,~])(\d+(?:\.\d+)?)\s*(gib|gb)\b(?!\s*/\s*s)(?!\s*(?:of\s+)?v?ram)")


def _bpw_from_size(label: str, row: dict[str, str]) -> float | None:
    """Average bits per weight from a file size in the label ("131GB", "59.02 GiB") and the row's total
    parameter count, when both are there."""
    size = _SIZE.search(label.lower())
    params = _num(row.get("total_params_B"))
    if not size or not params:
        return None
    nbytes = float(size.group(1)) * (2**30 if size.group(2) == "gib" else 1e9)
    bpw = nbytes * 8 / (params * 1e9)
    return round(bpw, 2) if 0.5 <= bpw <= 32 else None


def parse_quant_column(row: dict[str, str]) -> str | None:
    """A quant recipe name for the row: what a named build runs (``_BUILD_QUANTS``, whatever size the
    row states: that size describes the release), else the formats it states per tensor class, else
    the stated bits/weight, else the quant label."""
    label = row.get("quant", "").strip()
    engine = row.get("engine", "").lower()
    for build, released, runs in _BUILD_QUANTS:
        if build in engine and label.lower().startswith(released):
            return runs
    mix = _stated_mix(label)
    if mix:
        return mix  # the row's own layout beats an average spread by assumption
    head = re.split(r"[(,\s]", label.strip(), maxsplit=1)[0].lower()  # the quant's name: the first word
    sized = _SIZE.search(label.lower()) or "bpw" in label.lower()
    if not sized and any(e in engine for e in _GGUF_ENGINES) and head in _GGUF_LAYOUTS:
        # a ggml engine runs the GGUF file of that name, not the release: its stated size, else its layout
        bits = _num(row.get("bits_per_weight_if_stated"))
        return f"{bits:g}bpw" if bits else _GGUF_LAYOUTS[head]
    if head in ("bf16", "fp16") or (head in QUANT_NAMES and not sized):
        # a 16-bit file is 16 bits throughout whatever its size; its name keeps BF16 vs FP16, which
        # kernels treat differently (harness.perf.prediction.gpu_kernel_penalty)
        return head  # a plain format name: its real layout (scales, tensors kept at higher precision)
    stated = re.search(r"(\d+(?:\.\d+)?)\s*bpw", label.lower())
    bpw = _num(row.get("bits_per_weight_if_stated")) or (float(stated.group(1)) if stated else None) \
        or _bpw_from_size(label, row)
    if bpw:
        # a file whose size the row gives: its average, spread as published mixes are
        keep = _stated_keep(label)
        if keep:
            return f"{bpw:g}bpw@{keep}"
        return f"{bpw:g}bpw" + (_UD_KEEP if re.search(r"\bud-", label.lower()) else "")
    if head in QUANT_NAMES:
        return head
    alias = _alias(label)
    if alias:
        return alias
    if "4-bit gguf" in label.lower():
        return "q4_k_m"
    return None
