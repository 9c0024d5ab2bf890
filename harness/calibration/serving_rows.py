"""Published serving benchmarks (``data/calibration/serving.csv``, sources in SERVING.md beside it)
read as simulator runs: machine, model, quant, engine, lengths, load, and the measured output
throughput, TPOT and TTFT with the statistic each names. Rows the simulator cannot take yet
(prefill/decode disaggregation, several nodes, speculative decoding, dataset-shaped lengths, an
engine without a profile) are kept with the reason."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.calibration._cells import _lookup
from harness.calibration.rows import _MODEL_IDS
from harness.errors import HarnessError
from harness.fsutil import read_bounded_bytes
from harness.hardware.gpu_sheet import sheet_for
from harness.hardware.machine import GpuSpec, Machine

MAX_BYTES = 16 * 1024 * 1024
_QUANTS = (("nvfp4", "nvfp4"), ("mxfp4", "mxfp4"), ("fp8", "fp8"), ("bf16", "bf16"), ("int4", "int4"))
_ENGINES = (("sglang", "sglang"), ("vllm", "vllm"))
_SKIP = (("pd-disagg", "prefill/decode disaggregation is not simulated yet"),
         ("1p1d", "prefill/decode disaggregation is not simulated yet"),
         ("decode-only", "a decode-only test (prefill assumed free) is not simulated yet"),
         ("eagle", "speculative decoding (EAGLE) is not simulated yet"), ("mtp", "MTP is not simulated yet"),
         ("hybrid", "CPU/GPU hybrid serving rows give no lengths or load to simulate"))


@dataclass(frozen=True)
class ServingCase:
    id: str
    source: str  # the source group: the unit of leave-one-source-out scoring
    usable: bool
    why_not: str = ""
    machine: Machine | None = None
    model_id: str = ""
    quant: str = ""
    engine: str = ""
    engine_version: str | None = None
    input_len: int = 0
    output_len: int = 0
    len_ratio: float = 1.0
    concurrency: int | None = None
    rate: float | None = None
    requests: int = 0
    output_throughput: float | None = None
    tpot_ms: float | None = None
    tpot_stat: str = "median"
    ttft_ms: float | None = None
    ttft_stat: str = "median"


def _lead(text: str) -> float | None:
    m = re.match(r"\s*~?([0-9][0-9,]*(?:\.[0-9]+)?)", text or "")
    return float(m.group(1).replace(",", "")) if m else None


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
    return None, "median"


def _not(row: dict[str, str], why: str) -> ServingCase:
    return ServingCase(id=row.get("id", "?"), source=row.get("source_group", ""), usable=False, why_not=why)


def to_case(row: dict[str, str]) -> ServingCase:
    """A row as a simulator run, or the reason it is not one."""
    text = " ".join(row.get(k, "") for k in ("parallelism", "engine_and_version", "concurrency", "output_len",
                                             "quant")).lower()
    for key, why in _SKIP:
        if key in text:
            return _not(row, why)
    hw = row.get("hardware", "").split(";")[0]
    count = re.match(r"\s*(\d+)\s*x\s+(.*)", hw)
    tp = re.search(r"\btp(\d+)", row.get("parallelism", "").lower())
    if re.search(r"nodes?\s*x|cluster", hw.lower()):
        return _not(row, "several nodes: multi-node serving is not simulated yet")
    gpus = int(tp.group(1)) if tp else (int(count.group(1)) if count else 1)
    sheet = sheet_for(count.group(2) if count else hw)
    if sheet is None:
        return _not(row, f"GPU {hw!r} is not in the GPU sheet")
    engine = _lookup(row.get("engine_and_version", "").lower(), _ENGINES)
    if engine is None:
        return _not(row, f"engine {row.get('engine_and_version', '')[:40]!r} has no profile")
    model = _lookup(re.sub(r"[\s_]+", "-", row.get("model", "").lower()), _MODEL_IDS)
    quant = _lookup(row.get("quant", "").lower(), _QUANTS)
    inp, out = _lead(row.get("input_len", "")), _lead(row.get("output_len", ""))
    if not model or not quant:
        return _not(row, "model or quant not in the catalog")
    if not inp or not out:
        return _not(row, "lengths follow a dataset (ShareGPT, tool calls) whose distribution is not in the row")
    conc_text = row.get("concurrency", "")
    burst = re.match(r"\s*unbounded:\s*(\d+)", conc_text)
    prompts = re.search(r"(\d+)\s*(?:prompts|requests)", conc_text + " " + row.get("quote", ""))
    concurrency = None if burst else _lead(conc_text)
    if not burst and not concurrency:
        return _not(row, "no concurrency stated")
    measured = _lead(row.get("output_tok_s_aggregate", ""))
    per_gpu = _lead(row.get("output_tok_s_per_gpu", ""))
    if measured is None and per_gpu is not None:
        measured = per_gpu * (int(count.group(1)) if count else gpus)
    tpot, tpot_stat = _stat(row.get("per_user_latency_ms", ""), "TPOT")
    ttft, ttft_stat = _stat(row.get("ttft_ms", ""))
    if measured is None and tpot is None:
        return _not(row, "no output throughput or TPOT figure")
    version = re.search(r"v?(\d+\.\d+(?:\.\d+)?)", row.get("engine_and_version", ""))
    machine = Machine(name=f"{gpus}x {sheet.pattern}", source=f"serving row {row.get('id')}",
                      gpus=(GpuSpec(model=count.group(2).strip() if count else hw.strip(), count=gpus,
                                    memory_gb=sheet.memory_gb, bandwidth_gbs=sheet.bandwidth_gbs,
                                    bf16_tflops=sheet.bf16_tflops),))
    n = int(burst.group(1)) if burst else (int(prompts.group(1)) if prompts else max(100, 4 * int(concurrency)))
    return ServingCase(
        id=row["id"], source=row.get("source_group", ""), usable=True, machine=machine, model_id=model, quant=quant,
        engine=engine, engine_version=version.group(1) if version else None, input_len=int(inp), output_len=int(out),
        # SGLang's random dataset without --random-range-ratio 1 draws lengths up to the nominal one, about
        # half of it on average (SERVING.md, "Columns"): uniform from 2% of the nominal length to all of it
        len_ratio=0.02 if "random" in row.get("input_len", "").lower() else 1.0,
        concurrency=None if burst else int(concurrency), rate=float("inf") if burst else None, requests=min(n, 2000),
        output_throughput=measured, tpot_ms=tpot, tpot_stat=tpot_stat, ttft_ms=ttft, ttft_stat=ttft_stat)


def serving_path() -> Path:
    return Path(str(resources.files("harness") / "data" / "calibration" / "serving.csv"))


def load_serving_cases(path: Path | None = None) -> list[ServingCase]:
    p = path or serving_path()
    text = read_bounded_bytes(p, MAX_BYTES, "serving CSV").decode("utf-8", errors="replace")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "id" not in rows[0]:
        raise HarnessError(f"{p}: no rows with an id column — is it a serving CSV?")
    return [to_case(r) for r in rows]


def case_record(case: ServingCase) -> dict[str, Any]:
    return {"id": case.id, "source": case.source, "why": case.why_not}
