"""A Hugging Face ``config.json`` read into a ``ModelShape``: the file read bounded and checked,
the shape built by the family tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.fsutil import parse_json_text, read_bounded_bytes
from harness.workload.families import shape_from_config
from harness.workload.shape import ModelShape

MAX_JSON_BYTES = 64 * 1024 * 1024


def config_shape(cfg: dict[str, Any], path: Path, model_id: str | None = None) -> ModelShape:
    """The shape a parsed config.json describes, named after its folder unless ``model_id`` is given."""
    return shape_from_config(cfg, model_id or _id_from_path(path), f"config.json:{path}")


def read_json(path: Path) -> dict[str, Any]:
    """Parse a JSON file, turning unreadable or truncated files into one-line errors."""
    raw = read_bounded_bytes(path, MAX_JSON_BYTES, "model config or index JSON")
    data = parse_json_text(raw, str(path))
    if not isinstance(data, dict):
        raise HarnessError(f"{path} holds a JSON {type(data).__name__}, not an object — "
                           "pass a Hugging Face config.json")
    return data


def _id_from_path(path: Path) -> str:
    """A readable id: the folder name for ``.../<model>/config.json``, else the file stem."""
    return path.parent.name if path.name == "config.json" and path.parent.name else path.stem
