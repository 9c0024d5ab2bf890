"""``harness/data/engine_fit.json``: the engine constants the fitter writes and the engine profiles
are built from. Versioned; every field carries its status (fitted, derived, placeholder,
definition, unused) and its source, so a reader sees what a prediction leans on.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from harness.calibration.profiles import ENGINE_ORDER, TRAITS
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text
from harness.perf.engines import NUMERIC_FIELDS, EngineProfile, EngineSet

FIT_SCHEMA_VERSION = 1


def fit_path() -> Path:
    """The shipped fit file (inside the installed package)."""
    return Path(str(resources.files("harness") / "data" / "engine_fit.json"))


def load_fit(path: Path | None = None) -> dict[str, Any]:
    """The fit document; a newer schema or a damaged file is refused with the reason."""
    p = path or fit_path()
    try:
        doc = json.loads(Path(p).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read the engine fit file {p}: {exc} — regenerate it with "
                           "`python -m harness.calibration.fit`") from None
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if version != FIT_SCHEMA_VERSION:
        raise HarnessError(f"engine fit file {p} has schema_version {version!r}; this moebench reads "
                           f"{FIT_SCHEMA_VERSION} — regenerate it with `python -m harness.calibration.fit`")
    return doc


def profile_from_fit(name: str, fields: dict[str, Any], rows: tuple[str, ...]) -> EngineProfile:
    """One engine's profile: its traits, and each numeric field's value from the fit document."""
    traits = TRAITS[name]
    values = {f: float(fields[f]["value"]) for f in NUMERIC_FIELDS}
    placeholders = tuple(f for f in NUMERIC_FIELDS if fields[f]["status"] == "placeholder")
    note = traits.note.format(neg_numa_gain=-values["numa_gain"], **values)
    return EngineProfile(name=name, multi_gpu=traits.multi_gpu, mtp=traits.mtp, note=note, fitted_on=rows,
                         linear_state_bytes=traits.linear_state_bytes,
                         overlaps_shared_experts=traits.overlaps_shared_experts, apple_only=traits.apple_only,
                         placeholders=placeholders, **values)


def engines_from_fit(doc: dict[str, Any]) -> EngineSet:
    """Every engine profile the fit document describes, in the catalog's order."""
    try:
        return EngineSet({name: profile_from_fit(name, doc["engines"][name],
                                                 tuple(doc.get("rows_used", {}).get(name, ())))
                          for name in ENGINE_ORDER})
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"engine fit file is missing or damaged at {exc} — regenerate it with "
                           "`python -m harness.calibration.fit`") from None


def serving_fit_path() -> Path:
    """The serving constants' fit file (``harness.calibration.fit_serving`` writes it)."""
    return Path(str(resources.files("harness") / "data" / "serving_fit.json"))


# The engines whose tensor-parallel floor the serving fit scales: SGLang only, since every usable
# current-era serving row is an SGLang run (vLLM keeps the floor derived from its own July 2025 figure).
SERVING_ENGINES = ("sglang",)
# The engines whose floors on AMD GPUs the serving fit scales: the two that run on ROCm in its rows.
ROCM_ENGINES = ("vllm", "sglang")


def _serving_parameter(name: str, path: Path | None) -> float:
    p = path or serving_fit_path()
    if not p.is_file():
        return 1.0
    try:
        return float(json.loads(p.read_text("utf-8"))["parameters"][name]["value"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HarnessError(f"cannot read {p}: {exc} — regenerate it with "
                           "`python -m harness.calibration.fit_serving`") from None


def serving_tp_scale(path: Path | None = None) -> float:
    """The tensor-parallel floor of current SGLang builds relative to the one derived from vLLM's,
    fitted on the published serving rows (1 when the serving fit file is absent)."""
    return _serving_parameter("current_tp_scale", path)


def serving_rocm_scale(path: Path | None = None) -> float:
    """vLLM's and SGLang's per-step GPU floors on ROCm relative to CUDA's, fitted on the published
    serving rows (1 when the serving fit file is absent)."""
    return _serving_parameter("rocm_floor_scale", path)


def with_serving_scales(engines: EngineSet, tp_scale: float, rocm_scale: float = 1.0) -> EngineSet:
    """SGLang's tensor-parallel floor times ``tp_scale``; vLLM's and SGLang's floors on AMD GPUs times
    ``rocm_scale``."""
    out = engines.replace(*(replace(engines[e], tp_layer_us=engines[e].tp_layer_us * tp_scale)
                            for e in SERVING_ENGINES))
    return out.replace(*(replace(out[e], rocm_floor_scale=rocm_scale) for e in ROCM_ENGINES))


@lru_cache(maxsize=1)
def raw_engines() -> EngineSet:
    """The engine profiles exactly as the engine fit file holds them (what the fitters start from)."""
    return engines_from_fit(load_fit())


@lru_cache(maxsize=1)
def default_engines() -> EngineSet:
    """The shipped engine profiles: the engine fit file's, with current SGLang builds' tensor-parallel
    floor and vLLM's and SGLang's floors on ROCm scaled as the serving rows show (read once per process)."""
    return with_serving_scales(raw_engines(), serving_tp_scale(), serving_rocm_scale())


def save_fit(doc: dict[str, Any], path: Path | None = None) -> Path:
    """Write the fit document atomically (a failure leaves the previous file in place)."""
    p = path or fit_path()
    atomic_write_text(Path(p), json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return Path(p)
