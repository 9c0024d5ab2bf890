"""The built-in catalog: real ``config.json`` files shipped in ``harness/workload/configs/``.

Provenance of each file is in ``configs/SOURCES.md``; the GLM-4.5 files are reconstructed from
published shapes and say so in their ``_provenance`` key.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from harness.errors import HarnessError

# catalog id -> (file in configs/, Hugging Face repository it describes)
CATALOG: dict[str, tuple[str, str]] = {
    "deepseek-v3": ("deepseek-v3.json", "deepseek-ai/DeepSeek-V3"),
    "deepseek-r1": ("deepseek-r1.json", "deepseek-ai/DeepSeek-R1"),
    "kimi-k2": ("kimi-k2.json", "moonshotai/Kimi-K2-Instruct"),
    "qwen3-235b-a22b": ("qwen3-235b-a22b.json", "Qwen/Qwen3-235B-A22B"),
    "qwen3-30b-a3b": ("qwen3-30b-a3b.json", "Qwen/Qwen3-30B-A3B"),
    "mixtral-8x7b": ("mixtral-8x7b.json", "mistralai/Mixtral-8x7B-v0.1"),
    "mixtral-8x22b": ("mixtral-8x22b.json", "mistralai/Mixtral-8x22B-v0.1"),
    "gpt-oss-120b": ("gpt-oss-120b.json", "openai/gpt-oss-120b"),
    "gpt-oss-20b": ("gpt-oss-20b.json", "openai/gpt-oss-20b"),
    "glm-4.5": ("glm-4.5.json", "zai-org/GLM-4.5 (reconstructed from published shape)"),
    "glm-4.5-air": ("glm-4.5-air.json", "zai-org/GLM-4.5-Air (reconstructed from published shape)"),
    "llama-4-maverick": ("llama-4-maverick.json",
                         "meta-llama/Llama-4-Maverick-17B-128E-Instruct (abridged config)"),
    "llama-4-scout": ("llama-4-scout.json",
                      "meta-llama/Llama-4-Scout-17B-16E-Instruct (abridged config)"),
    "llama-3.1-70b": ("llama-3.1-70b.json", "meta-llama/Llama-3.1-70B"),
    # beyond the list: DeepSeek's current release, whose sparse attention changes long-context decode
    "deepseek-v3.2": ("deepseek-v3.2.json", "deepseek-ai/DeepSeek-V3.2 (reconstructed: V3 + sparse-attention keys)"),
    "minimax-m2": ("minimax-m2.json", "MiniMaxAI/MiniMax-M2 (reconstructed from its published shape keys)"),
    "qwen3-next-80b-a3b": ("qwen3-next-80b-a3b.json",
                           "Qwen/Qwen3-Next-80B-A3B-Instruct (reconstructed from its published shape)"),
}


def catalog_ids() -> list[str]:
    """The catalog's model ids, in catalog order."""
    return list(CATALOG)


def resolve_catalog_id(spec: str) -> str | None:
    """The catalog id a spec names: the id itself, any case, or the Hugging Face repository
    (``deepseek-ai/DeepSeek-V3``); None when it names none."""
    wanted = spec.strip().lower()
    for model_id, (_, repo) in CATALOG.items():
        if wanted in (model_id, repo.split(" ")[0].lower()):
            return model_id
    return None


def catalog_source(model_id: str) -> str:
    """Provenance text for a catalog id."""
    file, repo = _entry(model_id)
    return f"catalog:{model_id} ({repo} config.json, harness/workload/configs/{file})"


def load_catalog_config(model_id: str) -> dict[str, Any]:
    """The parsed config.json of a catalog id."""
    file, _ = _entry(model_id)
    text = resources.files("harness.workload").joinpath("configs", file).read_text("utf-8")
    return json.loads(text)


def _entry(model_id: str) -> tuple[str, str]:
    try:
        return CATALOG[model_id]
    except KeyError:
        raise HarnessError(f"unknown model {model_id!r} — use one of {', '.join(CATALOG)}, "
                           "or a path to a config.json, .gguf or model.safetensors.index.json"
                           ) from None
