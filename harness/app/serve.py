"""``moebench serve`` as a function: many users on one machine, simulated iteration by iteration on
the step-time model; the figures named as vLLM's ``benchmark_serving --save-result`` names them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from harness.app.api import check_expert_layers, check_scenario_numbers, load_model_arg
from harness.calibration.fit_serving import serving_setup
from harness.calibration.fitfile import default_engines
from harness.documents.machines import load_machine
from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.prediction import MTP_ACCEPTANCE
from harness.perf.engines import EngineSet
from harness.serving.eras import EARLY, parse_version
from harness.serving.capacity import slo_capacity
from harness.serving.point import serve_point
from harness.serving.deployment import parse_disaggregate
from harness.serving.workload import Load, parse_len_shape
from harness.workload.quant import parse_quant
from harness.workload.scenario import Scenario

MAX_SWEEP = 64
MAX_NODES = 1024


def parse_engine(text: str, engines: EngineSet) -> tuple[str, str | None]:
    """``sglang@0.4.3`` → ("sglang", "0.4.3"); the name checked against the profiles."""
    name, _, version = text.partition("@")
    if text.count("@") > 1 or (_ and not version.strip()):
        raise HarnessError(f"--engine {text!r}: write NAME or NAME@VERSION, e.g. sglang@0.4.3")
    if version.strip() and parse_version(version) is None:
        raise HarnessError(f"--engine {text!r}: the version {version.strip()!r} is not a release number such as "
                           "0.4.3 or v0.5.7")
    if name.strip().lower() != "auto":
        engines.resolve(name)
    return name.strip(), (version.strip() or None)


def serve_on(machine: str | Machine, *, model: str = "deepseek-v3", quant: str = "fp8", engine: str = "auto",
             placement: str = "auto", concurrency: int | None = None, rate: float | None = None,
             input_len: int = 1024, output_len: int = 1024, len_ratio: float = 1.0, len_dist: str | None = None,
             requests: int | None = None,
             kv_dtype_bytes: float = 2.0, seed: int = 0, slo_ttft_ms: float | None = None,
             slo_tpot_ms: float | None = None, sweep: Sequence[int] = (), max_running: int | None = None,
             token_budget: int | None = None, tensor_parallel: int | None = None, mtp: bool = False,
             expert_parallel: bool = False, disaggregate: str | None = None,
             prefix_hit: float = 0.0, nodes: int | None = None,
             gpu_expert_layers: int | None = None) -> dict[str, Any]:
    """Simulate serving; with ``sweep``, one point per concurrency (closed loop). ``len_dist`` (fixed,
    uniform:R, lognormal:S, sharegpt) overrides ``len_ratio``. ``nodes`` makes a GPU machine a cluster of
    that many of its nodes (in place of its spec's ``[cluster] nodes``)."""
    len_sigma = 0.0
    if len_dist is not None:
        len_ratio, len_sigma = parse_len_shape(len_dist)
    pd = parse_disaggregate(disaggregate)
    if expert_parallel and tensor_parallel:
        raise HarnessError("--expert-parallel spreads the model over every GPU as data-parallel attention ranks: "
                           "give it without --tensor-parallel")
    engines = default_engines()
    name, version = parse_engine(engine, engines)
    check_scenario_numbers(context=input_len + output_len, prompt=input_len, batch=1, kv_dtype_bytes=kv_dtype_bytes)
    for label, slo in (("--slo-ttft-ms", slo_ttft_ms), ("--slo-tpot-ms", slo_tpot_ms)):
        if slo is not None and not 0 < slo <= 1e9:
            raise HarnessError(f"{label} must be above 0, got {slo}")
    if sweep and rate is not None:
        raise HarnessError("--sweep runs closed-loop concurrencies: give it without --rate")
    if len(sweep) > MAX_SWEEP or any(c < 1 for c in sweep):
        raise HarnessError(f"--sweep takes 1 to {MAX_SWEEP} concurrencies of at least 1, e.g. 1,8,32,128")
    for label, value in (("--max-running", max_running), ("--token-budget", token_budget)):
        if value is not None and not 1 <= value <= 1_000_000:
            raise HarnessError(f"{label} must be 1 to 1,000,000, got {value}")
    m = load_machine(machine) if isinstance(machine, str) else machine
    if nodes is not None:
        if not 1 <= nodes <= MAX_NODES:
            raise HarnessError(f"--nodes must be 1 to {MAX_NODES:,}, got {nodes}")
        if nodes > 1 and not m.gpus:
            raise HarnessError("--nodes: a cluster spreads the model over GPUs and this machine has none — run "
                               "one box per group of users instead (replicas behind a load balancer)")
        m = replace(m, nodes=nodes)
    sc = Scenario(model=load_model_arg(model), quant=parse_quant(quant), engine=name, placement=placement,
                  context=input_len + output_len, prompt=input_len, kv_dtype_bytes=kv_dtype_bytes,
                  gpu_expert_layers=check_expert_layers(gpu_expert_layers))
    mtp_ok = mtp and bool(sc.model.params.get("mtp"))
    setup = serving_setup(m, sc, engines, version=version, tensor_parallel=tensor_parallel, max_running=max_running,
                          token_budget=token_budget, expert_parallel=expert_parallel, disaggregate=pd,
                          speculative=mtp_ok)
    step, cfg, latency, era, k = setup.step, setup.scheduler, setup.request_latency_s, setup.era, setup.constants
    dep = setup.deployment
    mtp_ok = mtp_ok and step.engine.mtp
    acceptance = MTP_ACCEPTANCE if mtp_ok else 0.0
    batch1 = 1 / step.time(1, input_len)
    if slo_tpot_ms is not None and slo_tpot_ms < 1000 / batch1 * 0.999:
        raise HarnessError(f"--slo-tpot-ms {slo_tpot_ms:g} is below one user's own step ({1000 / batch1:.1f} ms on "
                           "this machine): no load meets it")
    points = sweep or ([concurrency] if rate is None else [None])
    results = []
    for c in points:
        n = requests or max(100, 4 * (c or 0))
        load = Load(input_len=input_len, output_len=output_len, concurrency=c, rate=rate if c is None else None,
                    requests=n, len_ratio=len_ratio, len_sigma=len_sigma, prefix_hit=prefix_hit, seed=seed)
        point = serve_point(step, load.check(), cfg, slo_ttft_ms=slo_ttft_ms, slo_tpot_ms=slo_tpot_ms,
                            request_latency_s=latency, mtp_acceptance=acceptance, prefill_pool=dep.prefill_pool())
        nodes = dep.prefill_nodes + dep.decode_nodes
        point["output_throughput_per_node"] = point["output_throughput"] / nodes
        point["output_throughput_per_gpu"] = point["output_throughput"] / (nodes * dep.gpus_per_node)
        results.append(point)
    constants = (f"serving constants fitted on the published serving rows (harness/data/serving_fit.json): "
                 f"{k.request_latency_s * 1000:.0f} ms from send to scheduler, prefill compute ×{k.prefill_scale:g} "
                 f"plus {k.prefill_token_us:g} µs per prompt token on one GPU beyond its FLOPs, "
                 + (f"the whole step ×{k.early_scale(step.engine.name, step.devices.rocm, setup.pre_mla):g} for an "
                    "early-2025 build" + (" on ROCm" if step.devices.rocm else "")
                    + (" from before vLLM 0.7.1's MLA kernels" if setup.pre_mla else "") if era == EARLY else
                    f"the tensor-parallel floor ×{k.current_tp_scale:g} for a current SGLang build (in the engine "
                    "profile, as predict uses it)")
                 + f", {k.seq_overhead_us:g} µs per step for each request beyond the first"
                 + (f", per-step GPU floors ×{k.rocm_floor_scale:g} on ROCm (in the engine profile)"
                    if step.devices.rocm else "")
                 + (f", {k.ep_overlap:.0%} of the shorter of computation and all-to-all hidden"
                    if step.placement == "expert-parallel" else "")) if k else ""
    mha = ([f"{step.engine.name} {version} ran MLA as multi-head attention (MLA kernels came in vLLM 0.7.1): "
            "every head's keys and values cached and read"]
           if sc.model.attention_kind == "mla" and step.model.attention_kind != "mla" else [])
    assumptions = [
        f"placement {step.placement}, engine {step.engine.name}, {era} era" + (
            f" (version {version})" if version else " (no version given: a current build assumed)"),
        *mha,
        constants or "no serving constants for this engine: the step-time model as predict uses it",
        f"scheduler: {cfg.source}",
        *([f"{step.replicas} replicas of tensor parallel {m.gpu_count // step.replicas} behind a router, the load split "
           "evenly; throughputs are the node's"] if step.replicas > 1 and step.placement != "expert-parallel" else []),
        *([f"layout: {dep.layout}; {step.replicas} data-parallel attention ranks, requests dealt to them in turn; "
           + ("prompts prefilled elsewhere, one decode rank stands for all" if dep.prefill else
              "the ranks step together (up to 16 simulated at once, fewer at over 1,024 running requests), each step "
              "as long as the slowest rank's batch, so a prompt on one rank holds up the others' decode")
           + "; throughputs are the whole deployment's (per node and per GPU beside them)"]
          if step.placement == "expert-parallel" else []),
        *([f"prefill/decode disaggregated: prompts prefilled in arrival order on {dep.prefill_nodes} node(s), the KV "
           f"cache sent to the decode pool at {dep.transfer_s_per_token * 1e6:.1f} µs per prompt token"]
          if dep.prefill else []),
        *([f"prefix cache: {prefix_hit:.0%} of each prompt is cached and not prefilled (its KV pages still held)"]
          if prefix_hit else []),
        *([f"lengths log-normal (sigma {len_sigma:g}) around means of {input_len} in / {output_len} out, cut at 8× "
           "the mean (the shape is a placeholder: no dataset histogram ships)"] if len_sigma else []),
        f"KV cache: {step.kv_capacity_tokens:,} tokens fit beside the weights; a full cache preempts the latest "
        "request, which is prefilled again (vLLM's recompute)",
        "closed loop: each client sends its next request when its last completes (benchmark_serving "
        "--max-concurrency)" if rate is None else "open loop: Poisson arrivals (request_rate)",
        "step time: the batch-1 decode model evaluated for each iteration's batch (experts touched by its tokens, "
        "KV read at its contexts, prefill chunks at the GEMM rate, a fitted cost per request in the batch); "
        "small-batch expert GEMM efficiency and expert load imbalance are not modelled",
        *([f"multi-token prediction: each step verifies two tokens per request and keeps 1 + {acceptance} on "
            "average (DeepSeek-V3 report §5.4.3)"] if mtp_ok else
          [f"--mtp ignored: {step.engine.name} or {sc.model.id} has no multi-token prediction"] if mtp else []),
        *step.notes,
    ]
    slo = None
    if slo_ttft_ms is not None or slo_tpot_ms is not None:
        def run(load: Load) -> dict[str, Any]:
            return serve_point(step, load.check(), cfg, request_latency_s=latency, mtp_acceptance=acceptance,
                               prefill_pool=dep.prefill_pool())

        slo = slo_capacity(run, Load(input_len=input_len, output_len=output_len, concurrency=1, len_ratio=len_ratio,
                                     len_sigma=len_sigma, prefix_hit=prefix_hit, seed=seed),
                           slo_ttft_ms, slo_tpot_ms)
    base = {"machine": m.name, "model": sc.model.id, "quant": sc.quant.name, "engine": step.engine.name,
            "engine_version": version, "placement": step.placement, "input_len": input_len, "output_len": output_len,
            "batch1_tokens_per_s": batch1, "layout": dep.layout, "nodes": dep.prefill_nodes + dep.decode_nodes, "kv_capacity_tokens": step.kv_capacity_tokens,
            "max_running": cfg.max_running, "replicas": step.replicas, "token_budget": cfg.token_budget, "assumptions": assumptions,
            **({"slo_capacity": slo} if slo else {})}
    if sweep:
        return base | {"sweep": results}
    return base | results[0]


__all__ = ["parse_engine", "serve_on", "serve_point"]
