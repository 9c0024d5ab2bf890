"""Fit the serving constants on the published serving rows and write ``harness/data/serving_fit.json``.

    python -m harness.calibration.fit_serving

Eight constants, each for a mechanism the step-time model does not hold, fitted together (Huber loss
on log(simulated / measured) of output throughput, TPOT and TTFT over every usable row):
- ``request_latency_s``: time from a request's send to the scheduler (HTTP, tokenising, queues);
- ``prefill_scale``: prefill compute time of one node (tensor parallel, or data-parallel attention
  within the node) relative to the GEMM share the engine profile gives (that share is derived from
  DeepSeek's multi-node expert-parallel cluster, whose steps keep it);
- ``prefill_token_us``: prefill time per prompt token on one GPU beyond its FLOPs, for DeepSeek-V3's
  activations (other models in proportion to layers x hidden size; shared by a tensor-parallel
  replica's GPUs): the part of prefill that does not speed up with a GPU's FLOP/s
  (normalisation, routing, permutation, kernel launches, collectives), which keeps a compute-poor GPU
  such as the H20 from prefilling as slowly as its FLOP/s alone would say;
- ``early_step_scale``: the whole step of an early-2025 build relative to the model;
- ``current_tp_scale``: the tensor-parallel floor of current SGLang builds relative to the one
  derived from vLLM's July 2025 figure (every usable current-era row is SGLang); the engine profiles
  carry it (``fitfile.default_engines``), so ``predict`` and ``serve`` agree;
- ``ep_overlap``: the share of the shorter of an expert-parallel rank's computation and its
  all-to-all that two micro-batches hide;
- ``seq_overhead_us``: per decoding request beyond the first, per step (scheduling, sampling and
  output processing the GPU waits on; one request's share is in the batch-1 floors already);
- ``rocm_floor_scale``: vLLM's and SGLang's per-step GPU floors on AMD GPUs relative to CUDA's (ROCm's
  kernel launches and collectives; current and early builds alike, so that an early build's slowdown
  is not read off AMD rows alone); the engine profiles carry it, like the tensor-parallel scale.
Prefill-node rows (input tokens/s of one prefill node) are scored too, on the saturated prefill rate.
Leave-one-source-out: each source group's rows are predicted by constants fitted without them.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from harness.calibration.fitfile import raw_engines, serving_fit_path, with_serving_scales
from harness.calibration.serving_rows import ServingCase, load_serving_cases
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text

from harness.perf.ep_batch import EpStepModel
from harness.serving.deployment import Deployment, Step, deployment, engine_memory
from harness.perf.engines import EngineSet
from harness.serving.eras import EARLY, era_of
from harness.hardware.machine import Machine
from harness.serving.scheduler import SchedulerConfig, per_rank, scheduler_for
from harness.serving.point import serve_point
from harness.serving.simulate import PrefillPool
from harness.serving.workload import Load
from harness.workload import load_model
from harness.workload.quant import parse_quant
from harness.workload.scenario import Scenario

SCHEMA_VERSION = 1
MAX_REQUESTS = 2000  # per simulated instance (every row states fewer), in fitting and in scoring alike
HUBER = math.log(1.5)
BOUNDS = {"request_latency_s": (0.0, 0.5), "prefill_scale": (0.5, 20.0), "early_step_scale": (0.5, 5.0),
          "current_tp_scale": (0.05, 2.0), "ep_overlap": (0.0, 1.0), "seq_overhead_us": (0.0, 500.0),
          "rocm_floor_scale": (0.5, 10.0), "prefill_token_us": (0.0, 1000.0)}
NEUTRAL = {"request_latency_s": 0.0, "prefill_scale": 1.0, "early_step_scale": 1.0, "current_tp_scale": 1.0,
           "ep_overlap": 1.0, "seq_overhead_us": 0.0, "rocm_floor_scale": 1.0, "prefill_token_us": 0.0}


@dataclass(frozen=True)
class ServingConstants:
    request_latency_s: float = 0.0
    prefill_scale: float = 1.0
    early_step_scale: float = 1.0
    current_tp_scale: float = 1.0
    ep_overlap: float = 1.0
    seq_overhead_us: float = 0.0
    rocm_floor_scale: float = 1.0  # in the engine profiles (fitfile.default_engines), not applied here
    prefill_token_us: float = 0.0

    def apply(self, step: Step, era: str) -> Step:
        """The step model of a build of this era with the constants in (the tensor-parallel scale is
        already in the engine profiles the step was built from)."""
        step = replace(step, seq_overhead_s=self.seq_overhead_us * 1e-6)
        if isinstance(step, EpStepModel):
            step = replace(step, overlap=self.ep_overlap)
            if step.ranks <= step.gpus_per_node:  # one node's DP attention prefills as a tensor-parallel node
                step = replace(step, prefill_scale=self.prefill_scale, prefill_token_s=self.prefill_token_us * 1e-6)
            # a multi-node group keeps the GEMM share derived from DeepSeek's expert-parallel cluster
            return replace(step, step_scale=self.early_step_scale) if era == EARLY else step
        step = replace(step, prefill_scale=self.prefill_scale, prefill_token_s=self.prefill_token_us * 1e-6)
        return replace(step, step_scale=self.early_step_scale) if era == EARLY else step


def fit_path() -> Path:
    return serving_fit_path()


@lru_cache(maxsize=1)
def default_serving_constants() -> ServingConstants:
    """The shipped constants (neutral ones, said so, if the file is missing)."""
    try:
        doc = json.loads(fit_path().read_text("utf-8"))
        return ServingConstants(**{k: float(v["value"]) for k, v in doc["parameters"].items()})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HarnessError(f"cannot read {fit_path()}: {exc} — regenerate it with "
                           "`python -m harness.calibration.fit_serving`") from None


SERVING_ENGINES = ("vllm", "sglang", "tensorrt-llm")  # the engines the serving constants apply to


@dataclass(frozen=True)
class ServingSetup:
    """Everything a simulation of one machine and scenario needs besides the load."""

    deployment: Deployment
    scheduler: SchedulerConfig
    request_latency_s: float
    era: str
    constants: ServingConstants | None  # None: the engine has no serving constants

    @property
    def step(self) -> Step:
        """The decode instance the simulator iterates."""
        return self.deployment.decode


def serving_setup(machine: Machine, sc: Scenario, engines: EngineSet, *, version: str | None = None,
                  tensor_parallel: int | None = None, max_running: int | None = None,
                  token_budget: int | None = None, expert_parallel: bool = False,
                  disaggregate: tuple[int, int] | None = None, speculative: bool = False) -> ServingSetup:
    """The deployment's step models with the shipped serving constants of its engine and era, and the
    engine's scheduler limits on this machine."""
    dep = deployment(machine, sc, engines, tensor_parallel=tensor_parallel, expert_parallel=expert_parallel,
                     disaggregate=disaggregate)
    step = dep.decode
    era = era_of(step.engine.name, version)
    k = default_serving_constants() if step.engine.name in SERVING_ENGINES else None
    gpu_mem = machine.gpus[0].memory_gb if machine.gpus and step.placement != "cpu" else None
    dep, cfg = engine_scheduler(dep, gpu_mem, era, speculative=speculative, max_running=max_running,
                                token_budget=token_budget)
    if k:
        dep = dep.with_steps(lambda s: k.apply(s, era))
    return ServingSetup(dep, cfg, k.request_latency_s if k else 0.0, era, k)


def engine_scheduler(dep: Deployment, gpu_mem: float | None, era: str, *, speculative: bool = False,
                     max_running: int | None = None, token_budget: int | None = None
                     ) -> tuple[Deployment, SchedulerConfig]:
    """The engine's scheduler for the deployment's decode instance (its era, its model's attention, the
    GPUs it spans, one rank's share under DP attention) and the deployment at the engine's own memory
    fraction."""
    step = dep.decode
    world = step.ranks if isinstance(step, EpStepModel) else max(1, step.devices.tensor_parallel)
    cfg = scheduler_for(step.engine.name, gpu_mem, max_running=max_running, token_budget=token_budget,
                        speculative=speculative, era=era, mla=step.model.attention_kind == "mla", world_size=world)
    if isinstance(step, EpStepModel):
        cfg = per_rank(cfg, step.engine.name, step.ranks, explicit=speculative or max_running is not None)
    return engine_memory(dep, cfg, gpu_mem or 0.0)


def case_step(case: ServingCase, engines: EngineSet) -> Deployment:
    """The row's deployment: every GPU it names tensor-parallel (across nodes where its tensor-parallel
    size spans them), or its expert-parallel and disaggregated layout."""
    sc = Scenario(model=load_model(case.model_id), quant=parse_quant(case.quant), engine=case.engine, placement="gpu",
                  context=case.input_len + case.output_len, prompt=case.input_len)
    return deployment(case.machine, sc, engines, tensor_parallel=case.tensor_parallel or case.machine.gpu_count,
                      expert_parallel=case.expert_parallel, disaggregate=case.disaggregate)


def run_case(case: ServingCase, dep: Deployment, k: ServingConstants) -> dict[str, Any]:
    """The simulated benchmark of one row with the constants applied: a decode-only test has its
    prompts arrive prefilled; speculative decoding verifies the row's draft tokens."""
    era = era_of(case.engine, case.engine_version)
    dep = dep.with_steps(lambda s: k.apply(s, era))
    dep, cfg = engine_scheduler(dep, case.machine.gpus[0].memory_gb, era, speculative=case.draft_tokens > 0)
    if case.input_throughput is not None:
        return {"input_throughput": prefill_node_rate(dep.decode, case.input_len, case.token_budget or cfg.token_budget)}
    if case.max_running:
        cfg = replace(cfg, max_running=case.max_running)
    elif case.prefill_free and case.concurrency:  # a decode test at a stated batch per GPU ran that batch
        cfg = replace(cfg, max_running=max(cfg.max_running, -(-case.concurrency // dep.decode.replicas)))
    load = Load(input_len=case.input_len, output_len=case.output_len, concurrency=case.concurrency, rate=case.rate,
                requests=min(case.requests, MAX_REQUESTS * dep.decode.replicas), len_ratio=case.len_ratio,
                len_sigma=case.len_sigma, prefix_hit=case.prefix_hit)
    pool = PrefillPool(lambda n: 0.0, 0.0, 0.0) if case.prefill_free else dep.prefill_pool()
    return serve_point(dep.decode, load, cfg, request_latency_s=0.0 if case.prefill_free else k.request_latency_s,
                       mtp_acceptance=case.accepted, draft_tokens=max(1, case.draft_tokens), prefill_pool=pool)


def prefill_node_rate(step: Step, input_len: int, budget: int) -> float:
    """Input tokens per second one node prefills with every instance busy: each prefill batch packs
    as many whole prompts as the budget holds (SGLang's PrefillAdder), or a long prompt's chunks."""
    per_node = step.gpus_per_node if isinstance(step, EpStepModel) else step.replicas
    if input_len <= budget:
        n = budget // input_len
        seconds = step.time(0, 0.0, n * input_len, input_len / 2) / n
    else:
        seconds = sum(step.time(0, 0.0, min(budget, input_len - done), done + min(budget, input_len - done) / 2)
                      for done in range(0, input_len, budget))
    return per_node * input_len / seconds


def ratios(case: ServingCase, sim: dict[str, Any]) -> dict[str, float]:
    out = {}
    if case.input_throughput:
        out["input_throughput"] = sim["input_throughput"] / case.input_throughput
    if case.output_throughput:
        out["output_throughput"] = sim["output_throughput"] / case.output_throughput
    if case.tpot_ms:
        out["tpot_ms"] = sim[f"{case.tpot_stat}_tpot_ms"] / case.tpot_ms
    if case.ttft_ms:
        out["ttft_ms"] = sim[f"{case.ttft_stat}_ttft_ms"] / case.ttft_ms
    return out


def _huber(x: float) -> float:
    a = abs(x)
    return 0.5 * a * a if a <= HUBER else HUBER * (a - 0.5 * HUBER)


Cases = Sequence[ServingCase]


@lru_cache(maxsize=64)
def _steps(tp_scale: float, rocm_scale: float, ids: tuple[str, ...]) -> tuple[Deployment, ...]:
    engines = with_serving_scales(raw_engines(), tp_scale, rocm_scale)
    by_id = {c.id: c for c in _usable_cases()}
    return tuple(case_step(by_id[i], engines) for i in ids)


def _pairs(values: dict[str, float], cases: Cases) -> list[tuple[ServingCase, Deployment]]:
    return list(zip(cases, _steps(values["current_tp_scale"], values["rocm_floor_scale"], tuple(c.id for c in cases))))


def loss(values: dict[str, float], cases: Cases) -> float:
    k = ServingConstants(**values)
    total = 0.0
    for case, step in _pairs(values, cases):
        for r in ratios(case, run_case(case, step, k)).values():
            total += _huber(math.log(max(r, 1e-9)))
    return total


def fit(cases: Cases, start: dict[str, float] | None = None,
        sweeps: int = 8) -> dict[str, float]:
    """Coordinate descent in log space (latency in linear steps), inside the bounds."""
    values = dict(start or NEUTRAL)
    best = loss(values, cases)
    steps = {k: 0.5 for k in values}
    for _ in range(sweeps):
        improved = False
        for name, (lo, hi) in BOUNDS.items():
            for direction in (+1, -1):
                trial = dict(values)
                if name == "request_latency_s":
                    trial[name] = min(hi, max(lo, values[name] + direction * 0.1 * steps[name]))
                elif name in ("seq_overhead_us", "prefill_token_us"):  # from zero: linear steps of up to 50 µs
                    trial[name] = min(hi, max(lo, values[name] + direction * 100 * steps[name]))
                else:
                    trial[name] = min(hi, max(lo, values[name] * math.exp(direction * steps[name])))
                val = loss(trial, cases)
                if val < best - 1e-9:
                    values, best, improved = trial, val, True
                    break
            else:
                steps[name] *= 0.5
        if not improved and max(steps.values()) < 0.02:
            break
    return {k: float(f"{v:.2g}") for k, v in values.items()}


def scores(cases: Cases, values: dict[str, float]) -> list[dict[str, Any]]:
    k = ServingConstants(**values)
    return [{"id": c.id, "source": c.source, **ratios(c, run_case(c, s, k))} for c, s in _pairs(values, cases)]


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def ape(name: str) -> list[float]:
        return [abs(r[name] - 1) for r in rows if name in r]

    out: dict[str, Any] = {}
    for name in ("output_throughput", "tpot_ms"):
        errs = ape(name)
        out[f"{name}_mape_pct"] = round(100 * statistics.fmean(errs), 1) if errs else None
        out[f"{name}_median_ape_pct"] = round(100 * statistics.median(errs), 1) if errs else None
    ttft = [r["ttft_ms"] for r in rows if "ttft_ms" in r]
    out["ttft_within_2x"] = sum(1 for x in ttft if 0.5 <= x <= 2)
    out["ttft_count"] = len(ttft)
    prefill = ape("input_throughput")
    out["prefill_input_throughput_mape_pct"] = round(100 * statistics.fmean(prefill), 1) if prefill else None
    out["prefill_count"] = len(prefill)
    out["rows"] = len(rows)
    return out


@lru_cache(maxsize=1)
def _usable_cases() -> tuple[ServingCase, ...]:
    """The rows the simulator can run (with the raw profiles)."""
    out = []
    for c in load_serving_cases():
        if not c.usable:
            continue
        try:
            run_case(c, case_step(c, raw_engines()), ServingConstants())
        except HarnessError:
            continue
        out.append(c)
    return tuple(out)


def _fold(source: str, start: dict[str, float]) -> list[dict[str, Any]]:
    """One leave-one-source-out fold: the source's rows scored by constants fitted on the others."""
    cases = list(_usable_cases())
    return scores([c for c in cases if c.source == source],
                  fit([c for c in cases if c.source != source], start=start, sweeps=4))


def main(argv: list[str] | None = None) -> int:
    cases = list(_usable_cases())
    print(f"{len(cases)} usable rows; fitting", file=sys.stderr)
    values = fit(cases)
    loso: list[dict[str, Any]] = []
    sources = sorted({c.source for c in cases})
    workers = max(1, min(len(sources), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:  # the folds are independent: one per core
        for source, rows in zip(sources, pool.map(_fold, sources, [values] * len(sources))):
            print(f"left out {source} ({len(rows)} rows)", file=sys.stderr)
            loso += rows
    doc = {
        "schema_version": SCHEMA_VERSION, "generated_by": "python -m harness.calibration.fit_serving",
        "parameters": {name: {"value": v, "status": "fitted", "bounds": list(BOUNDS[name])} for name, v in values.items()},
        "rows_used": [c.id for c in cases], "max_requests_per_row": MAX_REQUESTS,
        "loss": round(loss(values, cases), 4),
        "mape": {"neutral": summary(scores(cases, dict(NEUTRAL))), "in_sample": summary(scores(cases, values)),
                 "leave_one_source_out": summary(loso)},
    }
    atomic_write_text(fit_path(), json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc["parameters"]), json.dumps(doc["mape"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
