"""The ``moebench run`` pipeline: probe → Machine → predictions → result.json + report.html → store.

Kept out of the CLI so Python users (and ``moebench check``) run exactly the same thing.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.workload.scenario import Scenario
from harness.perf.prediction import predict
from harness.perf.sensitivity import TARGET_TPS, analyse
from harness.app.capacity import with_simulated_users
from harness.documents.result import build_result
from harness.documents.specs import machine_from_probe
from probes.runner import run_probes
from harness.workload import load_model
from harness.workload.quant import parse_quant
from harness.fsutil import atomic_write_files
from harness.documents.result import dumps
from harness.report import render_report
from harness.store import fingerprint, save_result
from harness.calibration.fitfile import default_engines
from harness.perf.engines import EngineSet

DEFAULT_MODELS = ("deepseek-v3",)
DEFAULT_QUANTS = ("fp8", "q4_k_m")
DEFAULT_CONTEXT = 4096
DEFAULT_PROMPT = 1024

Progress = Callable[[str, float, float], None]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_probe(quick: bool = False, progress: Progress | None = None) -> Any:
    """Probe the real machine (replaced by a fake in tests)."""
    return run_probes(quick=quick, progress=progress)


def run_placements(machine: Machine, model: Any = None) -> list[str]:
    """cpu always; with a GPU also all-GPU, and hybrid when the model has routed experts to keep in RAM."""
    if not machine.gpus:
        return ["cpu"]
    moe = model is None or getattr(model, "n_routed_experts", 0) > 0
    return ["cpu", "hybrid", "gpu"] if moe else ["cpu", "gpu"]


def predict_grid(machine: Machine, models: list[str], quants: list[str], *, engine: str = "auto",
                 context: int = DEFAULT_CONTEXT, prompt: int = DEFAULT_PROMPT,
                 engines: EngineSet | None = None) -> list[dict[str, Any]]:
    """Predictions for every model × quant × placement, as result.json entries."""
    engines = engines or default_engines()

    shapes = [load_model(m) for m in models]
    recipes = [parse_quant(q) for q in quants]
    out = []
    for shape in shapes:
        # A GGUF header fixes every tensor's bytes, so the quant list does not apply: one row,
        # labelled as the file's own quantisation.
        per_model = [replace(recipes[0], name="gguf (file)")] if shape.tensor_bytes else recipes
        for recipe in per_model:
            for placement in run_placements(machine, shape):
                sc = Scenario(model=shape, quant=recipe, engine=engine, placement=placement,
                              context=context, prompt=prompt)
                pred = predict(machine, sc, engines).to_dict() | analyse(machine, sc, engines)
                out.append(with_simulated_users(machine, sc, engines, pred, TARGET_TPS))
    return out


def machine_record(probe: dict[str, Any], machine: Machine) -> dict[str, Any]:
    """What result.json keeps about the machine: the Machine, its fingerprint, the raw inventory."""
    record = machine.to_dict()
    record["system"] = probe.get("system", {})
    record["gpu_probe"] = probe.get("gpu", {})
    record["probe"] = probe
    record["fingerprint"] = fingerprint(record)
    return record


def run_benchmark(*, quick: bool = False, models: list[str] | None = None, quants: list[str] | None = None,
                  tags: dict[str, str] | None = None, out_dir: Path | None = None, engine: str = "auto",
                  context: int = DEFAULT_CONTEXT, progress: Progress | None = None,
                  probe_fn: Callable[..., Any] | None = None, write_report: bool = True) -> dict[str, Any]:
    """Probe this machine, predict, and write ``out_dir/result.json`` and ``out_dir/report.html``."""
    models = list(models or DEFAULT_MODELS)
    quants = list(quants or DEFAULT_QUANTS)
    # Validate model/quant names before spending a minute probing.

    for m in models:
        load_model(m)
    for q in quants:
        parse_quant(q)
    started = _now()
    report = (probe_fn or default_probe)(quick=quick, progress=progress)
    probe = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    machine = machine_from_probe(probe)
    predictions = predict_grid(machine, models, quants, engine=engine, context=context)
    result = build_result(run_id=uuid.uuid4().hex, started_at=started, finished_at=_now(), tags=tags or {},
                          machine=machine_record(probe, machine), probes=probe.get("probes", {}),
                          predictions=predictions)
    if out_dir is not None:
        write_outputs(result, Path(out_dir), write_report=write_report)
    return result


def write_outputs(result: dict[str, Any], out_dir: Path, write_report: bool = True) -> dict[str, Path]:
    """result.json and report.html into ``out_dir`` as one step: the report is rendered first, then
    both files are written together, so a failure or Ctrl-C never leaves one without the other."""
    if out_dir.exists() and not out_dir.is_dir():
        raise HarnessError(f"--out {out_dir} is a file — give a folder")
    paths = {"result": out_dir / "result.json"}
    files = {paths["result"]: dumps(result).encode("utf-8")}
    if write_report:
        paths["report"] = out_dir / "report.html"
        files[paths["report"]] = render_report(result).encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_files(files)
    return paths


def store_result(result: dict[str, Any], url: str | None = None) -> str | None:
    """Record the run in the results store; returns the stored run id."""
    return save_result(result, url)
