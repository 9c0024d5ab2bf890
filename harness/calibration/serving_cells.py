"""Reading the cells of a published serving row: a leading number (``1K``, ``5.7k``), a concurrency,
a latency statistic (``TPOT mean 55.2 / median 54.91``), the engine, the quant and the running-request
limit a row names — and what it leaves unstated, assumed and said."""

from __future__ import annotations

import re

from harness.calibration._cells import _lookup
from harness.calibration.quant_labels import parse_quant_column
from harness.errors import HarnessError
from harness.workload.catalog import load_catalog_config
from harness.workload.quant import parse_quant


def _concurrency(text: str) -> float | None:
    """``64``, ``64 (max-concurrency; 500 prompts)``, ``c=64``, ``max_concurrency=64`` (a batch size is
    not a concurrency: it may be per GPU or offline)."""
    lead = _lead(text)
    if lead is not None:
        return lead
    m = re.search(r"(?:\bc|concurrency)\s*[=:]?\s*(\d[\d,]*)", text or "", re.IGNORECASE)
    return float(m.group(1).replace(",", "")) if m else None


def _lead(text: str, k: int = 1024) -> float | None:
    """The number a cell starts with; ``1K`` is 1024 in a length (benchmark lengths are powers of two),
    ``5.7k`` is 5,700 in a throughput (``k=1000``)."""
    m = re.match(r"\s*~?([0-9][0-9,]*(?:\.[0-9]+)?)(\s*[kK]\b)?", text or "")
    if not m:
        return None
    return float(m.group(1).replace(",", "")) * (k if m.group(2) else 1)


def _stat(text: str, metric: str = "") -> tuple[float | None, str]:
    """``TPOT mean 55.2 / median 54.91`` → (54.91, "median"): the median preferred, else the mean; a
    cell that is about another metric (ITL for TPOT) gives nothing."""
    text = text or ""
    if metric and not text.lower().lstrip().startswith(metric.lower()):
        return None, "median"
    for stat in ("median", "mean"):
        m = re.search(rf"\b{stat}\s+([0-9][0-9,]*(?:\.[0-9]+)?)", text, re.IGNORECASE)
        if m:
            return float(m.group(1).replace(",", "")), stat
    # one unlabelled figure (``TPOT 3.72 (mean presumed)``): the mean where the cell says so, else taken
    # as the median
    bare = re.match(rf"\s*{re.escape(metric)}\s*[:=]?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:ms)?\s*(?:$|[(;/])", text,
                    re.IGNORECASE) if metric else None
    if bare:
        return float(bare.group(1).replace(",", "")), "mean" if re.search(r"\bmean\b|\bavg|average", text, re.I) else "median"
    return None, "median"


def _slowest_first_token_s(row: dict[str, str]) -> float:
    """The largest TTFT statistic a row states (``mean 63058 / median 61952 / P99 124112``), seconds."""
    values = re.findall(r"(?:mean|median|p\d+)\s+([0-9][0-9,]*(?:\.[0-9]+)?)", row.get("ttft_ms", ""), re.IGNORECASE)
    return max((float(v.replace(",", "")) for v in values), default=0.0) / 1000


# Engines named in a row's engine cell, first match wins (ik_llama.cpp before llama.cpp, whose name it
# holds); Ollama, llamafile and KoboldCpp run llama.cpp's ggml inside.
_ENGINES = (("sglang", "sglang"), ("vllm", "vllm"), ("tensorrt-llm", "tensorrt-llm"), ("trt-llm", "tensorrt-llm"),
            ("trtllm", "tensorrt-llm"), ("ik_llama", "ik_llama.cpp"), ("llama.cpp", "llama.cpp"),
            ("llama-server", "llama.cpp"), ("llama server", "llama.cpp"), ("ollama", "llama.cpp"),
            ("llamafile", "llama.cpp"), ("koboldcpp", "llama.cpp"), ("mlx", "mlx"))
# An engine without a profile (LMDeploy, TGI, a vendor's own) or none stated: a GPU server of the
# current era is taken to batch as vLLM does, the most common open engine in the published rows —
# an assumption the row carries, and such rows are never fitted on.
ASSUMED_ENGINE = "vllm"


def engine_of(cell: str, *, assume: bool = True) -> tuple[str | None, str | None]:
    """(engine profile, assumption) for an engine cell: the profile it names, else vLLM's with a note
    saying so (or None without ``assume``)."""
    engine = _lookup(cell, _ENGINES)
    if engine or not assume:
        return engine, None
    stated = re.sub(r"\s+", " ", cell).strip()
    if not stated or stated.lower().startswith(("not stated", "unknown", "n/a", "?")):
        return ASSUMED_ENGINE, "engine not stated: vLLM's batching and kernels assumed"
    return ASSUMED_ENGINE, f"engine {stated[:40]!r} has no profile: vLLM's batching and kernels assumed"


# Quant cells, the first named wins ("FP8 ... BF16 attention": FP8); AWQ/GPTQ/W4A16 are 4-bit weights,
# W8A8 8-bit; FP16 has BF16's bytes.
_QUANTS = (("nvfp4", "nvfp4"), ("mxfp4", "mxfp4"), ("awq", "int4"), ("gptq", "int4"), ("w4a16", "int4"),
           ("w4a8", "int4"), ("w8a8", "int8"), ("int8", "int8"), ("fp8", "fp8"), ("fp4", "nvfp4"), ("bf16", "bf16"),
           ("fp16", "fp16"), ("int4", "int4"), ("q4_k_m", "q4_k_m"))


def _release_format(model_id: str) -> str:
    """The format a model is released in: its config's quantization (DeepSeek-V3 and Kimi-K2 FP8,
    gpt-oss MXFP4), else BF16."""
    method = str((load_catalog_config(model_id).get("quantization_config") or {}).get("quant_method", "")).lower()
    return method if method in ("fp8", "mxfp4") else "bf16"


def quant_of(row: dict[str, str], model_id: str, *, assume: bool = True) -> tuple[str | None, str | None]:
    """(quant recipe, assumption) for a row: the format its quant cell names, else a GGUF or sized
    label the batch-1 rows' reader understands, else — the cell empty or "not stated" — the model's
    release format, said so."""
    label = row.get("quant", "").strip()
    quant = _lookup(label, _QUANTS)
    if quant:
        return quant, None
    if label and not label.lower().startswith(("not stated", "unknown", "n/a", "?")):
        recipe = parse_quant_column({"quant": label, "engine": row.get("engine_and_version", "")})
        try:
            return (parse_quant(recipe).name, None) if recipe else (None, None)
        except HarnessError:
            return None, None
    if not assume:
        return None, None
    fmt = _release_format(model_id)
    return fmt, f"quant not stated: the release's {fmt.upper()} assumed"


_HYBRID = re.compile(r"hybrid|ktransformers|kt-kernel|experts? (?:on|in) cpu|cpu experts|exps=cpu", re.IGNORECASE)


def hybrid_reason(row: dict[str, str], lengths: bool) -> str | None:
    """Why a CPU/GPU hybrid row (routed experts in host memory) is not simulated, or None for a row
    that is not one: the serving rows' columns hold no host memory channels or DIMM speed, which the
    hybrid step model reads experts at."""
    text = " ".join(row.get(k, "") for k in ("hardware", "parallelism", "engine_and_version"))
    if not _HYBRID.search(text):
        return None
    return ("a CPU/GPU hybrid deployment: the row states no host memory channels and DIMM speed"
            + ("" if lengths else ", nor its prompt and output lengths")
            + " (run it with `moebench serve` on a machine spec)")


def max_running(text: str) -> int | None:
    """The running-request limit a row states, per rank: ``max_batch_size 128/rank`` (TensorRT-LLM),
    ``max-running-requests 64`` (SGLang), ``--parallel 8`` / ``-np 8`` / ``8 slots`` (llama-server)."""
    m = (re.search(r"max[_-](?:batch[_-]size|running[_-]requests)\s*(\d+)", text)
         or re.search(r"(?:--parallel|(?<![\w-])-np)\s*=?\s*(\d+)|(\d+)\s*slots\b", text))
    return int(next(g for g in m.groups() if g)) if m else None
