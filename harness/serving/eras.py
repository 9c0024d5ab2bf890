"""Engine eras: the same deployment of DeepSeek-R1 on 8 GPUs gave roughly 600–760 output tok/s at 64
users with early-2025 SGLang/vLLM builds and about 1,800 with SGLang 0.5.7 (SERVING.md, "Engine
versions move fast"). A version decides the era; without one, the current era is assumed and said."""

from __future__ import annotations

import re

EARLY = "early-2025"
CURRENT = "current"
# The first releases of the current era: SGLang 0.4.5 (April 2025: DeepEP, DeepGEMM, FlashMLA by
# default) and vLLM 0.8 (March 2025: the V1 engine by default).
CURRENT_FROM = {"sglang": (0, 4, 5), "vllm": (0, 8, 0)}


def parse_version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    return tuple(int(x or 0) for x in m.groups()) if m else None


def era_of(engine: str, version: str | None) -> str:
    """The era a build belongs to (the current one when the version is absent or unknown)."""
    v = parse_version(version)
    first = CURRENT_FROM.get(engine)
    return EARLY if v is not None and first is not None and v < first else CURRENT
