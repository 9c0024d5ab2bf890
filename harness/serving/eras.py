"""Engine eras: the same deployment of DeepSeek-R1 on 8 GPUs gave roughly 600–760 output tok/s at 64
users with early-2025 SGLang/vLLM builds and about 1,800 with SGLang 0.5.7 (SERVING.md, "Engine
versions move fast"). A version decides the era; without one, the current era is assumed and said."""

from __future__ import annotations

import re
from typing import Any

EARLY = "early-2025"
CURRENT = "current"
# The first releases of the current era: SGLang 0.4.5 (April 2025: DeepEP, DeepGEMM, FlashMLA by
# default) and vLLM 0.8 (March 2025: the V1 engine by default).
CURRENT_FROM = {"sglang": (0, 4, 5), "vllm": (0, 8, 0)}
# ... and the months they came out (SGLang 0.4.5: April 2025; vLLM 0.8.0: March 2025). A measurement
# dated in or before that month with no version stated ran an early build (publication lags the build).
CURRENT_SINCE = {"sglang": (2025, 4), "vllm": (2025, 3)}
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}


def parse_version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    return tuple(int(x or 0) for x in m.groups()) if m else None


def parse_month(text: str | None) -> tuple[int, int] | None:
    """(year, month) of ``2025-03``, ``2025-03-18 (blog)``, ``Feb 2025`` or ``February 2025``; None for a
    bare year or no date."""
    if not text:
        return None
    m = re.search(r"\b(20\d\d)-(\d{1,2})\b", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    m = re.search(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(20\d\d)\b", text, re.IGNORECASE)
    return (int(m.group(2)), _MONTHS[m.group(1).lower()]) if m else None


def era_of(engine: str, version: str | None, month: tuple[int, int] | None = None) -> str:
    """The era a build belongs to: by its version, else by the month it was measured in (``month``),
    else the current one."""
    v = parse_version(version)
    first = CURRENT_FROM.get(engine)
    if v is not None:
        return EARLY if first is not None and v < first else CURRENT
    since = CURRENT_SINCE.get(engine)
    return EARLY if month is not None and since is not None and month <= since else CURRENT


# vLLM ran DeepSeek's multi-head latent attention as plain multi-head attention before 0.7.1, caching
# every head's keys and values (Neural Magic / Red Hat, "Enhancing DeepSeek Models with MLA and FP8
# Optimizations in vLLM", 2025-02-04: v0.7.1's MLA gives "approximately 9.6x more memory capacity for
# KV caches"; on 8x H200 "token capacity expanded from 54,560 to 512,000").
MLA_FROM = {"vllm": (0, 7, 1)}


def runs_mla(engine: str, version: str | None) -> bool:
    """Whether this build runs an MLA model as MLA (a build without a version: a current one)."""
    v, first = parse_version(version), MLA_FROM.get(engine)
    return v is None or first is None or v >= first


def pre_mla(model: Any, engine: str, version: str | None) -> bool:
    """Whether this build runs an MLA model without MLA kernels (vLLM before 0.7.1): the early build
    whose DeepSeek kernels 0.7.1 replaced (the serving fit gives it its own factor)."""
    return getattr(model, "attention_kind", None) == "mla" and not runs_mla(engine, version)


def model_as_run(model: Any, engine: str, version: str | None) -> Any:
    """The model as this engine build runs it (MLA expanded to every head's keys and values by a build
    that had no MLA kernels)."""
    return model if runs_mla(engine, version) else model.as_mha()

