"""Python entry points that mirror the CLI one to one (library first, CLI as a veneer)."""

from __future__ import annotations

from typing import Any

from harness.predict import Scenario, predict
from harness.specs import load_machine


def predict_on(machine: str, *, model: str = "deepseek-v3", quant: str = "fp8", engine: str = "auto",
               placement: str = "auto", context: int = 4096, prompt: int = 1024, batch: int = 1,
               kv_dtype_bytes: float = 2.0, mtp: bool = False) -> dict[str, Any]:
    """``moebench predict`` as a function: load inputs, predict, return the JSON-able dict."""
    from harness.errors import HarnessError
    from harness.engines import get_engine
    from harness.models import load_model
    from harness.quant import parse_quant

    if batch < 1:
        raise HarnessError(f"--batch must be >= 1, got {batch}")
    if context < 0 or prompt < 0:
        raise HarnessError("--context and --prompt must be >= 0")
    if not (0.25 <= kv_dtype_bytes <= 4):
        raise HarnessError(f"--kv-bytes must be between 0.25 and 4, got {kv_dtype_bytes}")
    if engine != "auto":
        get_engine(engine)
    m = load_machine(machine)
    sc = Scenario(model=load_model(model), quant=parse_quant(quant), engine=engine, placement=placement,
                  context=context, prompt=prompt, batch=batch, kv_dtype_bytes=kv_dtype_bytes, mtp=mtp)
    out = predict(m, sc).to_dict()
    out["machine"] = {"name": m.name, "source": m.source}
    return out
