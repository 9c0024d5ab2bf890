"""``load_model``: dispatch a model spec (catalog id or path) to the right reader."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import HarnessError
from harness.workload.catalog import (CATALOG, catalog_source, load_catalog_config,
                                    resolve_catalog_id)
from harness.workload.config_json import config_shape, read_json
from harness.workload.families import shape_from_config
from harness.workload.shape import ModelShape
from harness.workload.gguf_reader import load_gguf
from harness.workload.safetensors_index import load_safetensors_index


# A config.json is a few KiB; a model.safetensors.index.json has one line per tensor, a few MB
# for the largest models. Beyond this a file is not one of them.


def load_model(spec: str | os.PathLike[str]) -> ModelShape:
    """A ``ModelShape`` from a catalog id, a config.json (or a folder holding one), a ``.gguf``
    file, or a ``model.safetensors.index.json``.

    A GGUF gives exact bytes per class (``tensor_bytes``), which quant recipes then use as they
    are: the file *is* its quantization. A safetensors index gives its ``total_size`` (and, with
    the shards present, bytes by class in ``file_class_bytes``) but recipes still apply to it.
    """
    spec = os.fspath(spec)
    model_id = resolve_catalog_id(spec)  # a catalog id wins over a same-named local path
    if model_id is not None:
        return shape_from_config(load_catalog_config(model_id), model_id, catalog_source(model_id))
    path = Path(spec).expanduser()
    if not path.exists():
        raise HarnessError(f"unknown model {spec!r}: not a catalog id and no such file — use one of "
                           f"{', '.join(CATALOG)}, or a path to a config.json, .gguf or "
                           "model.safetensors.index.json")
    if path.is_dir():
        return _load_dir(path)
    if not path.is_file():  # a FIFO would block the open below for ever, /dev/zero never ends
        raise HarnessError(f"{spec} is not a regular file (a pipe or a device?) — point --model at a "
                           "config.json, .gguf or model.safetensors.index.json")
    if path.suffix.lower() == ".gguf" or _has_gguf_magic(path):
        return load_gguf(path)
    if path.name.endswith(".index.json"):
        return load_safetensors_index(path)
    return load_config(path)


def load_config(path: Path, model_id: str | None = None) -> ModelShape:
    """A ``ModelShape`` from a config.json file."""
    cfg = read_json(path)
    if "weight_map" in cfg:
        return load_safetensors_index(path)
    return config_shape(cfg, path, model_id)


def _load_dir(path: Path) -> ModelShape:
    for name in ("model.safetensors.index.json", "config.json"):
        if (path / name).is_file():
            return load_model(str(path / name))
    ggufs = sorted(path.glob("*.gguf"))
    if ggufs:
        return load_model(str(ggufs[0]))
    raise HarnessError(f"{path} is a folder without config.json, model.safetensors.index.json or "
                       ".gguf — point --model at one of those files")


def _has_gguf_magic(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"GGUF"
    except OSError:
        return False
