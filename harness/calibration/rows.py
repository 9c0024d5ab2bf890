"""Published, measured tokens/s (``data/calibration/measurements.csv``) turned into cases that
``predict`` can run: a ``Machine`` from the row's hardware columns and a scenario from its model,
quant, engine, placement and context columns. Parsing is here; fitting and scoring are elsewhere.
"""

from __future__ import annotations
import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from harness.hardware.cpu_catalog import rating_for
from harness.errors import HarnessError
from harness.fsutil import read_bounded_bytes
from harness.hardware.machine import GpuSpec, Machine
from harness.calibration._cells import _lookup, _num, _pos, lead_int, parse_prompt
from harness.calibration.quant_labels import parse_quant_column
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

# DeepSeek's other families carry its name: V2 / V2.5 / V2-Lite, Coder-V2, VL2, the dense R1 distills
# (Qwen and Llama models) — none is DeepSeek-V3's architecture, so none maps to it.
_NOT_V3 = re.compile(r"distill|deepseek-(?:v2|coder|vl|llm|moe|math|janus|ocr|prover)|v2\.5|v2-lite")


def model_id_for(text: str | None) -> str | None:
    """The catalog model a row's model cell names ("DeepSeek-R1-0528 (671B MoE)", "Qwen3-235B-A22B"),
    or None when it names none — a DeepSeek model of another family included."""
    name = re.sub(r"[\s_]+", "-", (text or "").strip().lower())
    if "deepseek" in name and _NOT_V3.search(name):
        return None
    return _lookup(name, _MODEL_IDS)


# Engines named in the rows → engine profiles.
# The HY90 appliance's stack comes first: its row calls it "KTransformers-style", but it is 行云's own engine
# (harness.calibration.profiles, "xingyun").
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
    """Published measurements kept out of every fit (the fitter, harness.calibration.fit, never reads them): the
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
    model_id = model_id_for(row.get("model"))
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
