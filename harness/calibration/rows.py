"""Published, measured tokens/s (``data/calibration/measurements.csv``) turned into cases that
``predict`` can run: a ``Machine`` from the row's hardware columns and a scenario from its model,
quant, engine, placement and context columns. Parsing is here; fitting and scoring are elsewhere.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.hardware.cpu_catalog import rating_for
from harness.errors import HarnessError
from harness.fsutil import read_bounded_bytes
from harness.hardware.machine import GpuSpec, Machine
from harness.workload.quant import FORMAT_BPW, QUANT_NAMES
from harness.hardware.gpu_sheet import sheet_for

# Model names in the rows → catalog ids (same architecture; fine-tunes share the shape).
_MODEL_IDS = (
    ("deepseek-v3.2", "deepseek-v3.2"), ("deepseek", "deepseek-v3"), ("kimi-k2", "kimi-k2"), ("gpt-oss-120b", "gpt-oss-120b"),
    ("gpt-oss-20b", "gpt-oss-20b"), ("qwen3-coder-30b", "qwen3-30b-a3b"), ("qwen3-30b", "qwen3-30b-a3b"),
    ("qwen3-235b", "qwen3-235b-a22b"), ("glm-4.5-air", "glm-4.5-air"), ("glm-4.5", "glm-4.5"),
    ("glm-4.6", "glm-4.5"), ("llama-4-scout", "llama-4-scout"),  # GLM-4.6: GLM-4.5's architecture
    ("llama-4-maverick", "llama-4-maverick"), ("mixtral-8x7b", "mixtral-8x7b"), ("mixtral-8x22b", "mixtral-8x22b"),
    ("llama-3.3-70b", "llama-3.1-70b"), ("llama-3.1-70b", "llama-3.1-70b"), ("minimax-m2", "minimax-m2"),
    ("qwen3-next-80b", "qwen3-next-80b-a3b"),
    ("qwen2.5-coder-7b", "qwen2.5-7b"), ("llama-2-7b", "llama-2-7b"),
)
# Engines named in the rows → engine profiles.
# The HY90 appliance's stack comes first: its row calls it "KTransformers-style", but it is 行云's own engine
# (harness/engines.py, "xingyun").
_ENGINES = (("褐蚁", "xingyun"), ("xingyun", "xingyun"), ("hy90", "xingyun"),
            ("ik_llama", "ik_llama.cpp"), ("ktransformers", "ktransformers"), ("llama.cpp", "llama.cpp"),
            ("vllm", "vllm"), ("sglang", "sglang"), ("ktransformers-style", "ktransformers"),
            # front-ends that run llama.cpp's ggml inside (Ollama, llamafile, KoboldCpp)
            ("ollama", "llama.cpp"), ("llamafile", "llama.cpp"), ("koboldcpp", "llama.cpp"))
# GPU kernel backends named in the rows' engine column.
_BACKENDS = (("vulkan", "vulkan"), ("rocm", "rocm"), ("metal", "metal"), ("cuda", "cuda"))
_PLACEMENTS = (("hybrid", "hybrid"), ("cpu+gpu", "hybrid"), ("cpu_gpu", "hybrid"), ("exps=cpu", "hybrid"),
               ("full_gpu_offload", "gpu"), ("full_offload", "gpu"), ("all_layers", "gpu"), ("offload", "hybrid"),
               ("multi_node", "multi-node"), ("cpu_only", "cpu"), ("gpu_only", "gpu"),
               ("multi_gpu", "gpu"), ("unified", "gpu"), ("cpu", "cpu"), ("gpu", "gpu"))


def _placement(text: str) -> str | None:
    """The placement a row's free text names ("hybrid_cpu_gpu", "CPU only", "multi-GPU", "partial offload")."""
    return _lookup(re.sub(r"[\s-]+", "_", text.strip()), _PLACEMENTS)
# Fastest DIMM speed a platform of this memory type commonly runs, assumed when a row omits it and
# names no CPU whose own maximum the catalog knows (DDR4-3200: AMD EPYC 7003 / Intel Xeon 3rd gen;
# DDR5-4800: EPYC 9004 / Xeon 4th gen).
_DEFAULT_MTS = {"DDR4": 3200, "DDR5": 4800}




@dataclass(frozen=True)
class CalibrationCase:
    id: str
    model_id: str | None
    quant: str | None
    engine: str
    placement: str
    context: int
    batch: int
    measured_decode: float | None
    measured_prefill: float | None
    machine: Machine | None
    usable: bool
    why_not: str
    row: dict[str, str]
    backend: str = "auto"
    prompt: int | None = None  # prompt tokens of the prefill figure, where stated
    prefill_depth: int = 0


_NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"


def _num(text: str | None) -> float | None:
    """The number a free-text cell gives: "~14", "14 tok/s", "1,234.5", "1.2e1"; a range ("12-16",
    "12 to 16") gives its middle; an overflowing or underflowing exponent ("1e400") gives None."""
    t = (text or "").replace(",", "")
    rng = re.match(rf"[^0-9]*?({_NUMBER})\s*(?:-|–|to)\s*({_NUMBER})", t)
    m = re.search(rf"[-+]?{_NUMBER}", t)
    if rng:
        lo, hi = float(rng.group(1)), float(rng.group(2))
        value = (lo + hi) / 2 if lo and hi else None
    else:
        value = float(m.group()) if m else None
        if value == 0 and m and re.search(r"[1-9]", m.group()):
            value = None  # "1e-400": underflowed, not zero
    return value if value is not None and math.isfinite(value) else None


def _pos(text: str | None) -> float | None:
    """A physical quantity (bandwidth, speed, count): its number when positive, else None (absent)."""
    value = _num(text)
    return value if value is not None and value > 0 else None


def parse_prompt(text: str) -> tuple[int | None, int]:
    """(prompt tokens, KV depth the prompt is processed at) from the row's context column, where
    stated: "pp512", "PP512/TG128 @ N_KV=0", "prompt 7678", "500 prompt"; "@ depth 32768" is the
    depth of llama-bench's "-d" runs, which applies to its prompt processing as to its decode."""
    t = (text or "").lower().replace(",", "")
    size = re.search(r"\bpp(\d+)|prompt (\d+)|(\d+) prompt", t)
    prompt = int(next(g for g in size.groups() if g)) if size else None
    depth = re.search(r"@ depth (\d+)|n_kv=(\d+)", t)
    return prompt, int(next(g for g in depth.groups() if g)) if depth else 0


def lead_int(text: str | None) -> int | None:
    """The integer a column starts with ('16 (2x8)' -> 16), or None."""
    m = re.match(r"\s*([0-9]+)", text or "")
    return int(m.group(1)) if m else None


def _lookup(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    low = text.lower()
    return next((v for k, v in table if k in low), None)


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


def parse_context(text: str) -> int:
    """Tokens in the KV cache while decoding, from the row's free-text context column."""
    t = (text or "").lower().replace(",", "")
    for pattern, scale in ((r"depth (\d+)", 1), (r"n_kv=(\d+)", 1), (r"prompt (\d+)", 1),
                           (r"(\d+)k context", 1000), (r"(\d+) prompt", 1), (r"avg kv length (\d+)", 1)):
        m = re.search(pattern, t)
        if m:
            return int(m.group(1)) * scale
    return 0


def _gpus(row: dict[str, str], placement_text: str) -> tuple[GpuSpec, ...]:
    name = row.get("gpu_model", "").strip()
    count = lead_int(row.get("gpu_count")) or 0
    rating = sheet_for(name)
    if not name or count == 0 or "not used" in name or rating is None:
        return ()
    unified = rating.unified or "unified" in placement_text
    bw = rating.bandwidth_gbs
    return (GpuSpec(model=name, count=count, memory_gb=rating.memory_gb, bandwidth_gbs=bw,
                    bf16_tflops=rating.bf16_tflops, unified_memory=unified),)


def row_machine(row: dict[str, str]) -> tuple[Machine | None, str]:
    """The row's machine, or None and why it cannot be built."""
    placement_text = row.get("placement", "")
    sockets = lead_int(row.get("sockets")) or 1
    channels = lead_int(row.get("mem_channels_total"))
    if channels and "bit" in (row.get("mem_channels_total") or ""):
        channels = None  # a bus width (unified memory), not a channel count
    speed = lead_int(row.get("dimm_speed_MTs"))
    theo = _pos(row.get("theoretical_mem_bw_GBs"))
    measured = _pos(row.get("measured_stream_bw_GBs_if_stated"))
    notes = []
    mem_type = (row.get("mem_type") or "").split()[0] if row.get("mem_type") else None
    typed = re.match(r"((?:lp)?ddr\d+x?)[-\s@]*(\d{4})?\b", (row.get("mem_type") or "").strip().lower())
    if typed:  # "DDR5-6400", "DDR5 @ 4800": the type, and the speed when the speed column is empty
        mem_type = typed.group(1).upper()
        speed = speed or (int(typed.group(2)) if typed.group(2) else None)
    rating = rating_for(row.get("cpu_model"))
    if not theo and not measured and channels and not speed and rating and rating.max_mts:
        speed = rating.max_mts
        notes.append(f"DIMM speed not stated: {mem_type or 'DDR'}-{speed}, the fastest the CPU supports, assumed")
    elif not theo and not measured and channels and not speed and mem_type in _DEFAULT_MTS:
        speed = _DEFAULT_MTS[mem_type]
        notes.append(f"DIMM speed not stated: {mem_type}-{speed} assumed")
    if theo and "per gpu" in (row.get("theoretical_mem_bw_GBs") or "").lower():
        theo = None  # that figure is the GPU's, not the host's
    gpus = _gpus(row, placement_text)
    cpu = row.get("cpu_model", "").strip()
    needs_host = _placement(placement_text) in ("cpu", "hybrid")
    if needs_host and not (theo or measured or (channels and speed)):
        return None, "host memory not specified"
    if needs_host and "unspecified" in cpu.lower():
        return None, "CPU not specified"
    if _placement(placement_text) == "hybrid" and not gpus:
        return None, "GPU not specified or unknown (a hybrid row needs a GPU the vendor sheet knows)"
    if not needs_host and not gpus:
        return None, "GPU not specified or unknown"
    cores = _cores_per_socket(cpu, sockets)
    return Machine(
        name=cpu or row.get("gpu_model", "machine"), source=f"calibration:{row['id']}", cpu_model=cpu or None,
        sockets=sockets, cores_per_socket=cores, numa_nodes=sockets, memory_type=mem_type, channels=channels,
        speed_mts=speed, theoretical_bandwidth_gbs=theo if not measured else theo,
        measured_bandwidth_gbs=measured, gpus=gpus, capacity_gb=None, notes=tuple(notes),
    ), ""


def _cores_per_socket(cpu: str, sockets: int) -> int | None:
    """Cores per socket the engine ran on: the thread count stated, else the core count."""
    used = re.search(r"(\d+) threads", cpu)
    if used:
        return max(1, int(used.group(1)) // sockets)
    rating = rating_for(cpu)
    if rating is not None:
        return rating.cores
    per = re.search(r"\((\d+)C\b|\((\d+)C/|(\d+)-core|\((\d+)C ", cpu)
    if per:
        return int(next(g for g in per.groups() if g))
    return None


# Columns a measurements file must have for its rows to become cases (the rest are optional context).
REQUIRED_COLUMNS = ("id", "model", "quant", "engine", "placement", "decode_tok_s")
MAX_ROWS_BYTES = 16 * 1024 * 1024


def _data_dir() -> Any:
    return resources.files("harness") / "data" / "calibration"


def holdout_path() -> Path:
    """Published measurements kept out of every fit (bench/fit_engines.py never reads them): the
    model's out-of-sample check, in the calibration format."""
    return Path(str(_data_dir() / "holdout.csv"))


def load_rows(path: Path | None = None) -> list[dict[str, str]]:
    """The packaged calibration rows, or those of a user's CSV in the same format (a lab's own
    measurements, or a held-out set): the format is ``data/calibration/README.md``'s."""
    if path is None:
        text = (_data_dir() / "measurements.csv").read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text)))
    raw = read_bounded_bytes(Path(path), MAX_ROWS_BYTES, "measurements CSV")
    if b"\x00" in raw:
        raise HarnessError(f"{path} is a binary file, not a CSV — give measurements in the calibration format")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HarnessError(f"{path}: not UTF-8 text — save it as a UTF-8 CSV") from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise HarnessError(f"{path}: missing column(s) {', '.join(missing)} — a measurements CSV needs the "
                               f"header of harness/data/calibration/measurements.csv")
        rows = [{(k or "").strip(): (v or "") for k, v in row.items() if isinstance(v, str) or v is None}
                for row in reader]
    except csv.Error as exc:
        raise HarnessError(f"{path}: not a readable CSV ({exc}) — check its quoting") from None
    if not rows:
        raise HarnessError(f"{path} has a header but no rows — add measurements below it")
    ids = [r.get("id", "").strip() for r in rows]
    if any(not i for i in ids):
        raise HarnessError(f"{path}: row {ids.index('') + 2} has no id — give every row an id")
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup:
        raise HarnessError(f"{path}: id {dup!r} appears twice — ids must be unique")
    return rows


def to_case(row: dict[str, str]) -> CalibrationCase:
    placement_text = row.get("placement", "")
    placement = _placement(placement_text)
    engine = _lookup(row.get("engine", ""), _ENGINES)
    # "Llama 4 Maverick", "Mixtral 8x7B", "gpt_oss_120b": names with spaces or underscores for hyphens
    model_id = _lookup(re.sub(r"[\s_]+", "-", row.get("model", "").strip()), _MODEL_IDS)
    quant = parse_quant_column(row)
    machine, why = row_machine(row)
    batch_text = row.get("batch_or_concurrency", "")
    batch = lead_int(batch_text) or 1
    decode = _num(row.get("decode_tok_s"))
    reasons = [why] if why else []
    if placement is None:
        reasons.append("placement not understood (write cpu_only, hybrid_cpu_gpu, gpu_only, multi_gpu or multi_node)")
    if engine is None and placement != "multi-node":  # multi-node rows are served by SGLang's profile
        reasons.append("engine not understood (name llama.cpp, ik_llama.cpp, ktransformers, xingyun, vllm or "
                       "sglang; Ollama, llamafile and KoboldCpp count as llama.cpp)")
    if "aggregate" in (row.get("decode_tok_s") or "") or "large batch" in batch_text or placement == "multi-node":
        reasons.append("aggregate throughput at large batch, not batch-1 decode")
    if decode is None or decode <= 0:
        reasons.append("no decode tok/s figure")
    if model_id is None:
        reasons.append("model not in the catalog")
    if quant is None:
        reasons.append("quant not understood")
    prompt, depth = parse_prompt(row.get("context_or_prompt_len", ""))
    return CalibrationCase(
        id=row["id"], model_id=model_id, quant=quant, engine=engine or "llama.cpp", placement=placement or "cpu",
        context=parse_context(row.get("context_or_prompt_len", "")), batch=batch,
        measured_decode=decode, measured_prefill=_pos(row.get("prefill_tok_s")), machine=machine,
        usable=not reasons, why_not="; ".join(reasons), row=row,
        backend=_lookup(row.get("engine", ""), _BACKENDS) or "auto",
        prompt=prompt, prefill_depth=depth,
    )


def load_cases(path: Path | None = None) -> list[CalibrationCase]:
    """Every calibration row (or every row of the CSV at ``path``) as a case; unusable ones say why."""
    return [to_case(r) for r in load_rows(path)]


def case_summary(case: CalibrationCase) -> dict[str, Any]:
    return {"id": case.id, "model": case.model_id, "quant": case.quant, "engine": case.engine,
            "placement": case.placement, "context": case.context, "measured_decode_tok_s": case.measured_decode,
            "source": case.row.get("source_url_or_repo_path"), "confidence": case.row.get("confidence")}
