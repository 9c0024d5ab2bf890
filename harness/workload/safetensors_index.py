"""A model from ``model.safetensors.index.json``: shape from the ``config.json`` beside it, file
size from the index's ``metadata.total_size``, and — when the shards are present too — exact
bytes per tensor class from each shard's header (8-byte little-endian length + JSON listing
every tensor's dtype, shape and data_offsets; the safetensors format)."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.workload.shape import TENSOR_CLASSES, ModelShape
from harness.workload.config_json import config_shape, read_json

_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
_VISION = re.compile(r"vision|multi_modal_projector|visual")
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors reference reader's own limit
_MAX_TOTAL = 10**15  # 1 PB: a thousand times the largest published checkpoints


def _is_shard_name(value: Any) -> bool:
    """A plain file name in the index's folder (no path: the index cannot point elsewhere)."""
    return isinstance(value, str) and value.endswith(".safetensors") and "/" not in value \
        and "\\" not in value and value not in (".", "..")


def load_safetensors_index(path: Path) -> ModelShape:
    """``ModelShape`` of the config.json next to ``path``, with the index's total size attached."""
    index = read_json(path)
    metadata = index.get("metadata")
    total = metadata.get("total_size") if isinstance(metadata, dict) else None
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not isinstance(total, (int, float)) \
            or isinstance(total, bool):
        raise HarnessError(f"{path} lacks weight_map or metadata.total_size — not a "
                           "model.safetensors.index.json; download it again")
    if not 0 < total < _MAX_TOTAL:  # NaN fails too
        raise HarnessError(f"{path}: metadata.total_size {total} is not a size between 1 byte and "
                           "1 PB — the index is damaged; download it again")
    bad = [s for s in weight_map.values() if not _is_shard_name(s)]
    if bad:
        raise HarnessError(f"{path}: weight_map names {str(bad[0])[:80]!r}, not a .safetensors file "
                           "beside the index — the index is damaged; download it again")
    config = path.parent / "config.json"
    if not config.is_file():
        raise HarnessError(f"{path}: no config.json beside it — put the model's config.json in "
                           f"{path.parent} (moebench reads the shape from it)")
    shape = config_shape(read_json(config), config, model_id=path.parent.name or "model")
    nbytes = _shard_bytes(path.parent, weight_map, shape.n_layers)
    source = f"safetensors:{path} (total_size {int(total)} B)"
    return replace(shape, source=source, file_bytes=int(total), file_class_bytes=nbytes)


def _shard_bytes(folder: Path, weight_map: dict[str, str], n_layers: int) -> dict[str, int] | None:
    """Exact bytes by class when every shard is present; None otherwise."""
    shards = sorted(set(weight_map.values()))
    if not shards or not all((folder / s).is_file() for s in shards):
        return None
    nbytes = dict.fromkeys(TENSOR_CLASSES, 0)
    for shard in shards:
        for name, info in read_safetensors_header(folder / shard).items():
            if name == "__metadata__":
                continue
            if _VISION.search(name):
                continue  # vision tower / projector: not read when decoding text
            nbytes[hf_tensor_class(name, n_layers)] += _tensor_size(folder / shard, name, info)
    return nbytes


def _tensor_size(shard: Path, name: str, info: Any) -> int:
    """Bytes of one tensor from its ``data_offsets`` [start, end)."""
    offsets = info.get("data_offsets") if isinstance(info, dict) else None
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise HarnessError(f"{shard}: tensor {name[:80]!r} has no valid data_offsets — the shard "
                           "is damaged; download it again")
    return offsets[1] - offsets[0]


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of one .safetensors file."""
    try:
        with path.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > _MAX_HEADER:
                raise ValueError(f"header length {length} is implausible")
            header = json.loads(fh.read(length))
    except (OSError, struct.error, ValueError, RecursionError) as exc:
        raise HarnessError(f"{path} is not a readable safetensors file ({exc}) — is it "
                           "truncated? Download it again") from None
    if not isinstance(header, dict):
        raise HarnessError(f"{path}: the safetensors header is not a JSON object — the file is "
                           "damaged; download it again")
    return header


def hf_tensor_class(name: str, n_layers: int) -> str:
    """The tensor class of a Hugging Face tensor name (``model.layers.N`` at or past n_layers is
    MTP); FP8 ``weight_scale_inv`` tensors go with their weight."""
    match = _LAYER.search(name)
    if match and int(match.group(1)) >= n_layers:
        return "mtp"  # DeepSeek's layer 61 also holds copies of embed_tokens and the head
    if "embed_tokens" in name:
        return "embedding"
    if name.startswith(("lm_head", "language_model.lm_head")):
        return "lm_head"
    if not match:
        return "norms"  # model.norm and other small non-layer tensors
    return _layer_class(name[match.end():])


def _layer_class(rest: str) -> str:
    if "norm" in rest:
        return "norms"
    if rest.startswith(("self_attn", "attention")):
        return "attention"
    if "shared_expert" in rest:
        return "shared_experts"  # shared_experts.* and Qwen2-MoE shared_expert_gate
    if "experts" in rest:
        return "routed_experts"
    if rest.startswith(("mlp.gate.", "mlp.router", "block_sparse_moe.gate", "feed_forward.router")):
        return "router"
    return "dense_mlp"
