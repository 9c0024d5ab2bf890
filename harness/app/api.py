"""Python entry points that mirror the CLI one to one (library first, CLI as a veneer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.workload.scenario import MAX_BATCH, MAX_TOKENS, Scenario
from harness.perf.prediction import predict
from harness.documents.machines import load_machine
from harness.workload import load_model
from harness.calibration.fitfile import default_engines
from harness.store import open_store
from harness.workload.quant import parse_quant
from harness.perf.sensitivity import analyse
from harness.app.capacity import with_simulated_users
from harness.app.run import DEFAULT_MODELS, DEFAULT_QUANTS

OUTPUT_FILES = ("result.json", "report.html")  # what `moebench run` writes into --out


def check_scenario_numbers(*, context: int, prompt: int, batch: int, kv_dtype_bytes: float) -> None:
    """Refuse option values no prediction can mean, naming the option and its accepted range."""
    if not 1 <= batch <= MAX_BATCH:
        raise HarnessError(f"--batch must be 1 to {MAX_BATCH:,}, got {batch}")
    for name, value in (("--context", context), ("--prompt", prompt)):
        if not 0 <= value <= MAX_TOKENS:
            raise HarnessError(f"{name} must be 0 to {MAX_TOKENS:,} tokens, got {value}")
    if not (0.25 <= kv_dtype_bytes <= 4):
        raise HarnessError(f"--kv-bytes must be between 0.25 and 4, got {kv_dtype_bytes}")


def check_expert_layers(layers: int | None) -> int | None:
    """``--gpu-expert-layers``: 0 (every routed expert in host RAM) up to the model's MoE layers."""
    if layers is not None and not 0 <= layers <= 100_000:
        raise HarnessError(f"--gpu-expert-layers must be 0 or more (0: every routed expert in host RAM), got {layers}")
    return layers


def load_model_arg(spec: str) -> Any:
    """``load_model`` for a --model argument; an empty one is refused, not read as the current folder."""
    if not str(spec).strip():
        raise HarnessError("--model is empty — give a catalog id (see `moebench models`) or a path to a "
                           "config.json, .gguf or model.safetensors.index.json")
    return load_model(spec)


def predict_on(machine: str, *, model: str = "deepseek-v3", quant: str = "fp8", engine: str = "auto",
               placement: str = "auto", context: int = 4096, prompt: int = 1024, batch: int = 1,
               kv_dtype_bytes: float = 2.0, mtp: bool = False, backend: str = "auto",
               target_tps: float | None = None, gpu_expert_layers: int | None = None) -> dict[str, Any]:
    """``moebench predict`` as a function: load inputs, predict, return the JSON-able dict; with
    ``target_tps`` also what to upgrade, users served at that speed, and cost (harness.perf.sensitivity)."""
    check_scenario_numbers(context=context, prompt=prompt, batch=batch, kv_dtype_bytes=kv_dtype_bytes)
    if engine != "auto":
        default_engines().resolve(engine)
    m = load_machine(machine)
    sc = Scenario(model=load_model_arg(model), quant=parse_quant(quant), engine=engine, placement=placement,
                  context=context, prompt=prompt, batch=batch, kv_dtype_bytes=kv_dtype_bytes, mtp=mtp,
                  backend=backend, gpu_expert_layers=check_expert_layers(gpu_expert_layers))
    engines = default_engines()
    out = predict(m, sc, engines).to_dict()
    if target_tps is not None:
        if not 0 < target_tps <= 1e6:
            raise HarnessError(f"--target-tps must be above 0 and at most 1,000,000, got {target_tps}")
        out = with_simulated_users(m, sc, engines, out | analyse(m, sc, engines, target_tps), target_tps)
    out["machine"] = {"name": m.name, "source": m.source}
    return out


def check_out_dir(out: Path | str) -> Path:
    """An output folder that exists as a folder or can be created (nothing is created here)."""
    if not str(out).strip():
        raise HarnessError("--out is empty — give a folder for result.json and report.html")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise HarnessError(f"--out {path} is a file — give a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise HarnessError(f"--out {path}: {parent} is a file, so the folder cannot be created")
            break
    for name in OUTPUT_FILES:
        if (path / name).is_dir():
            raise HarnessError(f"--out {path}: {path / name} is a folder, so {name} cannot be written there "
                               "— remove it or choose another --out")
    return path


def check_run_inputs(*, models: list[str] | None, quants: list[str] | None, engine: str = "auto",
                     out: Path | str | None = None, store: str | None = None, use_store: bool = True) -> None:
    """Everything ``moebench run`` can refuse, refused before a minute of probing and before any
    file is written: model and quant names, the engine, the output folder, the results store."""
    for m in models or DEFAULT_MODELS:
        load_model_arg(m)
    for q in quants or DEFAULT_QUANTS:
        parse_quant(q)
    if engine != "auto":
        default_engines().resolve(engine)
    if out is not None:
        check_out_dir(out)
    if use_store:
        check_store(store)


def check_store(url: str | None) -> None:
    """Open (and so create, for a new SQLite file) the results store, or say why it cannot be."""
    with open_store(url):
        pass
