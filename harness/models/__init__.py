"""Old import path, kept for users' scripts: model shapes are ``harness.workload`` now."""

from harness.workload import TENSOR_CLASSES, ModelShape, catalog_ids, load_model

__all__ = ["TENSOR_CLASSES", "ModelShape", "catalog_ids", "load_model"]
