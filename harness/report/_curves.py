"""Curves for the sheet, recomputed with ``harness.perf``: tokens/s against context length and
aggregate versus per-user tokens/s against concurrency, for one stored prediction's scenario.

The predictor is a parameter (default ``harness.perf.predict`` with the shipped engine profiles) so
tests pin the report's layout with a deterministic stand-in instead of the model's current numbers.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

from harness.calibration.fit_serving import serving_setup
from harness.calibration.fitfile import default_engines
from harness.documents.result import PredictionRecord
from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.prediction import predict
from harness.perf.sensitivity import what_to_upgrade
from harness.serving.point import serve_point
from harness.serving.workload import Load
from harness.workload import load_model
from harness.workload.catalog import resolve_catalog_id
from harness.workload.scenario import Scenario
from harness.workload.quant import parse_quant

# Context lengths a buyer asks about, 1k to 128k (DeepSeek-V3's window is 128k).
CONTEXTS: tuple[int, ...] = (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
BATCHES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)

PredictFn = Callable[[Machine, Any], Any]
# (machine, scenario, concurrencies) -> (aggregate tok/s, per-user tok/s) at each concurrency
ServeFn = Callable[[Machine, Any, Sequence[int]], tuple[list[float | None], list[float | None]]]
UpgradeFn = Callable[[Machine, Any], Sequence[Mapping[str, Any]]]


def default_predict() -> PredictFn:
    engines = default_engines()
    return lambda machine, scenario: predict(machine, scenario, engines)


def default_serve() -> ServeFn:
    """The serving simulator at each concurrency (closed loop, prompts of the scenario's prompt length,
    answers filling its context), with the shipped serving constants for vLLM/SGLang."""
    engines = default_engines()

    def serve(machine: Machine, scenario: Any, concurrencies: Sequence[int]) -> tuple[list, list]:
        setup = serving_setup(machine, scenario, engines)
        step, cfg, latency = setup.step, setup.scheduler, setup.request_latency_s
        inp, out = max(1, scenario.prompt), max(1, scenario.context - scenario.prompt)
        agg: list[float | None] = []
        user: list[float | None] = []
        for c in concurrencies:
            if inp + out > step.kv_capacity_tokens or c > cfg.max_running * step.replicas:
                agg.append(None)
                user.append(None)
                continue
            load = Load(input_len=inp, output_len=out, concurrency=c, requests=max(2 * c, 16))
            point = serve_point(step, load, cfg, request_latency_s=latency)
            agg.append(point["output_throughput"])
            user.append(1000.0 / point["median_tpot_ms"] if point["median_tpot_ms"] else None)
        return agg, user

    return serve


def serve_curve(machine: Machine, scenario: Any, serve_fn: ServeFn,
                batches: Sequence[int] = BATCHES) -> tuple[list[float | None], list[float | None]]:
    """(aggregate, per-user) output tokens/s at each concurrency from the serving simulator; nothing
    where it cannot run the scenario."""
    try:
        return serve_fn(machine, scenario, batches)
    except HarnessError:
        return [None] * len(batches), [None] * len(batches)


def default_upgrades() -> UpgradeFn | None:
    """``harness.perf.sensitivity.what_to_upgrade`` with the shipped engine profiles."""
    engines = default_engines()
    return lambda machine, scenario: what_to_upgrade(machine, scenario, engines)


def catalog_model(model_id: str) -> Any:
    """The catalog's ModelShape for a result's model id. A result file is outside input: its
    model names are looked up in the catalog only, never opened as paths."""
    resolved = resolve_catalog_id(str(model_id))
    if resolved is None:
        raise HarnessError(f"model {model_id!r} is not in this moebench's catalog")
    return load_model(resolved)


def scenario_of(prediction: PredictionRecord) -> Any:
    """The Scenario behind a stored prediction, with placement and engine as resolved then.

    Raises HarnessError when the model or quant is unknown to this moebench.
    """
    inputs = prediction.inputs
    if not prediction.model or not prediction.quant:
        raise HarnessError("prediction has no model/quant inputs")
    known = {f.name for f in dataclasses.fields(Scenario)} - {"model", "quant"}
    kwargs = {k: v for k, v in inputs.items() if k in known and v is not None}
    kwargs["placement"] = inputs.get("placement_resolved") or prediction.placement or "auto"
    kwargs["engine"] = inputs.get("engine_resolved") or prediction.engine or "auto"
    return Scenario(model=catalog_model(str(prediction.model)), quant=parse_quant(str(prediction.quant)), **kwargs)


def as_dict(prediction: Any) -> dict[str, Any]:
    return prediction.to_dict() if hasattr(prediction, "to_dict") else dict(prediction)


def _rate(predict_fn: PredictFn, machine: Machine, scenario: Any) -> PredictionRecord | None:
    """The predictor's answer read as the record a result keeps; None when it refuses the scenario."""
    try:
        return PredictionRecord.from_json(as_dict(predict_fn(machine, scenario)))
    except HarnessError:
        return None


def context_curve(machine: Machine, scenario: Any, predict_fn: PredictFn,
                  contexts: Sequence[int] = CONTEXTS, require_fit: bool = True) -> list[float | None]:
    """Per-user decode tokens/s at each context length; None where it does not fit (unless
    ``require_fit`` is off: then the speed the memory system would give if capacity sufficed)."""
    out: list[float | None] = []
    for ctx in contexts:
        p = _rate(predict_fn, machine, dataclasses.replace(scenario, context=ctx))
        out.append(p.decode_tokens_per_s if p and (p.fits or not require_fit) else None)
    return out


def batch_curve(machine: Machine, scenario: Any, predict_fn: PredictFn, batches: Sequence[int] = BATCHES,
                require_fit: bool = True) -> tuple[list[float | None], list[float | None]]:
    """(aggregate, per-user) decode tokens/s at each concurrency; None where it does not fit."""
    agg: list[float | None] = []
    user: list[float | None] = []
    for b in batches:
        p = _rate(predict_fn, machine, dataclasses.replace(scenario, batch=b))
        shown = p if p is not None and (p.fits or not require_fit) else None
        agg.append(shown.aggregate_tokens_per_s if shown else None)
        user.append(shown.decode_tokens_per_s if shown else None)
    return agg, user


def upgrades_for(machine: Machine, scenario: Any, upgrade_fn: UpgradeFn | None) -> list[dict[str, Any]]:
    """What-to-upgrade rows, best gain first; empty when the analysis is not available."""
    if upgrade_fn is None:
        return []
    try:
        rows = [dict(r) for r in upgrade_fn(machine, scenario)]
    except HarnessError:
        return []
    return sorted(rows, key=lambda r: -(r.get("gain_pct") or 0.0))
