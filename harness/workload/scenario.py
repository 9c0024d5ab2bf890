"""What to predict: model, quant recipe, engine and placement names, and the load (context, prompt,
batch); the limits any input may carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


PLACEMENTS = ("auto", "cpu", "gpu", "hybrid", "multi-node")


# The largest scenario numbers any input may carry (CLI options, stored results): beyond any real
# context window or deployment, and small enough that every formula stays in float range.
MAX_TOKENS = 100_000_000


MAX_BATCH = 1_000_000


# GPU kernel backends an engine may run on; "auto" = the GPU vendor's own (CUDA, ROCm, Metal).
BACKENDS = ("auto", "cuda", "rocm", "vulkan", "metal")


@dataclass(frozen=True)
class Scenario:
    """What to predict: model, quant recipe, engine, placement and load."""

    model: Any  # harness.workload.ModelShape
    quant: Any  # harness.workload.quant.QuantRecipe
    engine: str = "auto"
    placement: str = "auto"
    context: int = 4096
    prompt: int = 1024
    batch: int = 1
    kv_dtype_bytes: float = 2.0
    mtp: bool = False
    # GPU kernel backend of the engine ("cuda", "rocm", "vulkan", "metal"); "auto" = the GPU
    # vendor's own. Matters where a backend lacks a kernel path (see ``gpu_kernel_penalty``).
    backend: str = "auto"
    # tokens already in the KV cache when the prompt is processed (llama-bench's "pp N @ d D"): the
    # prompt's attention then spans depth + its own positions
    prefill_depth: int = 0
    # routed-expert layers a hybrid placement holds and computes on the GPU (llama.cpp --n-cpu-moe / -ot,
    # KTransformers' GPU experts), the rest in host RAM; None = as many as the GPU memory left beside
    # the rest of the model and the KV cache holds (harness.perf.capacity.fitting_expert_layers)
    gpu_expert_layers: int | None = None

    def inputs(self) -> dict[str, Any]:
        return {"model": self.model.id, "quant": self.quant.name, "engine": self.engine,
                "placement": self.placement, "context": self.context, "prompt": self.prompt,
                "batch": self.batch, "kv_dtype_bytes": self.kv_dtype_bytes, "mtp": self.mtp,
                "backend": self.backend, "prefill_depth": self.prefill_depth,
                **({"gpu_expert_layers": self.gpu_expert_layers} if self.gpu_expert_layers else {})}
