"""The serving constants applied to a deployment: what the fit of ``fit_serving`` is made of and
what ``serve`` and ``validate --serving`` run with — the constants (their bounds and neutral values),
the shipped ones, a machine's serving setup, and one published row run as the simulator runs it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.calibration.fitfile import serving_fit_path
from harness.calibration.serving_rows import ServingCase
from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.engines import EngineSet
from harness.perf.ep_batch import EpStepModel
from harness.serving.deployment import Deployment, Step, deployment, engine_memory
from harness.serving.eras import EARLY, era_of, model_as_run, pre_mla
from harness.serving.point import serve_point
from harness.serving.scheduler import SchedulerConfig, per_rank, scheduler_for
from harness.serving.simulate import PrefillPool
from harness.serving.workload import Load
from harness.workload import load_model
from harness.workload.quant import parse_quant
from harness.workload.scenario import Scenario

MAX_REQUESTS = 2000  # per simulated instance (every row states fewer), in fitting and in scoring alike

BOUNDS = {"request_latency_s": (0.0, 0.5), "prefill_scale": (0.5, 20.0), "early_sglang_scale": (0.5, 5.0),
          "early_vllm_scale": (0.5, 5.0),
          "current_tp_scale": (0.05, 2.0), "ep_overlap": (0.0, 1.0), "seq_overhead_us": (0.0, 500.0),
          "rocm_floor_scale": (0.5, 10.0), "prefill_token_us": (0.0, 1000.0), "early_rocm_scale": (0.5, 5.0),
          "pre_mla_vllm_scale": (0.5, 5.0)}
NEUTRAL = {"request_latency_s": 0.0, "prefill_scale": 1.0, "early_sglang_scale": 1.0, "early_vllm_scale": 1.0,
           "current_tp_scale": 1.0,
           "ep_overlap": 1.0, "seq_overhead_us": 0.0, "rocm_floor_scale": 1.0, "prefill_token_us": 0.0,
           "early_rocm_scale": 1.0, "pre_mla_vllm_scale": 1.0}



@dataclass(frozen=True)
class ServingConstants:
    request_latency_s: float = 0.0
    prefill_scale: float = 1.0
    early_sglang_scale: float = 1.0
    early_vllm_scale: float = 1.0
    current_tp_scale: float = 1.0
    ep_overlap: float = 1.0
    seq_overhead_us: float = 0.0
    rocm_floor_scale: float = 1.0  # in the engine profiles (fitfile.default_engines), not applied here
    prefill_token_us: float = 0.0
    early_rocm_scale: float = 1.0
    pre_mla_vllm_scale: float = 1.0

    def apply(self, step: Step, era: str, *, pre_mla: bool = False) -> Step:
        """The step model of a build of this era with the constants in (the tensor-parallel scale is
        already in the engine profiles the step was built from); ``pre_mla``: a vLLM build before 0.7.1
        running an MLA model (``eras.pre_mla``)."""
        step = replace(step, seq_overhead_s=self.seq_overhead_us * 1e-6)
        if isinstance(step, EpStepModel):
            step = replace(step, overlap=self.ep_overlap)
            if step.ranks <= step.gpus_per_node:  # one node's DP attention prefills as a tensor-parallel node
                step = replace(step, prefill_scale=self.prefill_scale, prefill_token_s=self.prefill_token_us * 1e-6)
            # a multi-node group keeps the GEMM share derived from DeepSeek's expert-parallel cluster
            return replace(step, step_scale=self.early_scale(step.engine.name, step.devices.rocm, pre_mla)) \
                if era == EARLY else step
        step = replace(step, prefill_scale=self.prefill_scale, prefill_token_s=self.prefill_token_us * 1e-6)
        return replace(step, step_scale=self.early_scale(step.engine.name, step.devices.rocm, pre_mla)) \
            if era == EARLY else step

    def early_scale(self, engine: str, rocm: bool = False, pre_mla: bool = False) -> float:
        """The whole step of an early-2025 build of this engine relative to the model (only vLLM and
        SGLang have an early era: ``harness.serving.eras``), on AMD GPUs times the early ROCm builds'
        own factor (fitted at 0.94 on 130 rows: early builds were about as slow on H200 as on MI300X),
        and for a vLLM build before 0.7.1 on an MLA model times its own factor: 0.7.1 brought MLA and
        FP8 kernel work for DeepSeek that Neural Magic put at up to 3x the output throughput, so one
        early factor for 0.7.0 and 0.7.3 alike was bound by the oldest build's row."""
        base = self.early_vllm_scale if engine == "vllm" else self.early_sglang_scale
        older = self.pre_mla_vllm_scale if pre_mla and engine == "vllm" else 1.0
        return base * older * (self.early_rocm_scale if rocm else 1.0)


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
    pre_mla: bool = False  # a vLLM build before 0.7.1 running an MLA model (eras.pre_mla)

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
    older = pre_mla(sc.model, sc.engine, version)
    sc = replace(sc, model=model_as_run(sc.model, sc.engine, version))
    dep = deployment(machine, sc, engines, tensor_parallel=tensor_parallel, expert_parallel=expert_parallel,
                     disaggregate=disaggregate)
    step = dep.decode
    era = era_of(step.engine.name, version)
    k = default_serving_constants() if step.engine.name in SERVING_ENGINES else None
    gpu_mem = machine.gpus[0].memory_gb if machine.gpus and step.placement != "cpu" else None
    dep, cfg = engine_scheduler(dep, gpu_mem, era, speculative=speculative, max_running=max_running,
                                token_budget=token_budget)
    if k:
        dep = dep.with_steps(lambda s: k.apply(s, era, pre_mla=older))
    return ServingSetup(dep, cfg, k.request_latency_s if k else 0.0, era, k, older)


def engine_scheduler(dep: Deployment, gpu_mem: float | None, era: str, *, speculative: bool = False,
                     max_running: int | None = None, token_budget: int | None = None
                     ) -> tuple[Deployment, SchedulerConfig]:
    """The engine's scheduler for the deployment's decode instance (its era, its model's attention, the
    GPUs it spans, one rank's share under DP attention) and the deployment at the engine's own memory
    fraction."""
    step = dep.decode
    ep = isinstance(step, EpStepModel)
    world = step.ranks if ep else max(1, step.devices.tensor_parallel)
    # multi-node expert-parallel and disaggregated recipes set --mem-fraction-static themselves
    recipe = dep.prefill is not None or (ep and step.ranks > step.gpus_per_node)
    cfg = scheduler_for(step.engine.name, gpu_mem, max_running=max_running, token_budget=token_budget,
                        speculative=speculative, era=era, mla=step.model.attention_kind == "mla", world_size=world,
                        dp_attention=ep, recipe_memory=recipe)
    if ep:
        cfg = per_rank(cfg, step.engine.name, step.ranks, explicit=speculative or max_running is not None)
    return engine_memory(dep, cfg, gpu_mem or 0.0)


def case_step(case: ServingCase, engines: EngineSet) -> Deployment:
    """The row's deployment: every GPU it names tensor-parallel (across nodes where its tensor-parallel
    size spans them), or its expert-parallel and disaggregated layout."""
    model = model_as_run(load_model(case.model_id), case.engine, case.engine_version)
    sc = Scenario(model=model, quant=parse_quant(case.quant), engine=case.engine, placement="gpu",
                  context=case.input_len + case.output_len, prompt=case.input_len)
    return deployment(case.machine, sc, engines, tensor_parallel=case.tensor_parallel or case.machine.gpu_count,
                      expert_parallel=case.expert_parallel, disaggregate=case.disaggregate)


@lru_cache(maxsize=None)
def case_pre_mla(model_id: str, engine: str, version: str | None) -> bool:
    """Whether a row's build runs its MLA model without MLA kernels (``eras.pre_mla``), read once per
    model rather than on every simulation of the fit."""
    return pre_mla(load_model(model_id), engine, version)


def run_case(case: ServingCase, dep: Deployment, k: ServingConstants) -> dict[str, Any]:
    """The simulated benchmark of one row with the constants applied: a decode-only test has its
    prompts arrive prefilled; speculative decoding verifies the row's draft tokens. An engine the
    serving constants were not fitted for (llama.cpp, MLX) runs on its batch-1 profile alone, as
    ``serve`` runs it."""
    era = case.era
    if case.engine not in SERVING_ENGINES:
        k = ServingConstants()
    older = case_pre_mla(case.model_id, case.engine, case.engine_version)
    dep = dep.with_steps(lambda s: k.apply(s, era, pre_mla=older))
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
