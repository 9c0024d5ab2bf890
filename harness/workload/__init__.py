"""Model shapes: what one token touches, by tensor class.

``load_model(spec)`` accepts a catalog id, a path to a Hugging Face ``config.json`` (or its
folder), a GGUF file, or a ``model.safetensors.index.json``.
"""

from __future__ import annotations

from harness.workload.catalog import catalog_ids
from harness.workload.loading import load_model
from harness.workload.shape import TENSOR_CLASSES, ModelShape

__all__ = ["TENSOR_CLASSES", "ModelShape", "catalog_ids", "load_model"]
