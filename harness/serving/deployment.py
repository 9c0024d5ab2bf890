"""How a machine or cluster is laid out to serve: tensor-parallel replicas on one node, tensor
parallelism across the nodes of a cluster (early-2025 two-node recipes: SGLang ``--tp 16 --nnodes 2``),
one expert-parallel group with data-parallel attention (SGLang ``--enable-dp-attention``, DeepSeek's
layout) over one node or several, and optionally prefill/decode disaggregation — separate prefill
and decode pools, the KV cache moved between them over the network.

The simulator runs one decode instance (a tensor-parallel replica or one expert-parallel rank) with
its share of the load; a disaggregated deployment puts its share of the prefill pool in front."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Union

from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.batch import StepModel, step_model
from harness.perf.capacity import GPU_RESERVE_FRAC, kv_copies
from harness.perf.devices import GB, GPU_GB
from harness.perf.engines import EngineSet, auto_engine, check_engine_on
from harness.perf.ep_batch import DEFAULT_NIC_GBS, EpStepModel, ep_step_model
from harness.perf.overheads import engine_overhead
from harness.serving.scheduler import SchedulerConfig
from harness.serving.simulate import PrefillPool
from harness.workload.scenario import Scenario

Step = Union[StepModel, EpStepModel]


@dataclass(frozen=True)
class Deployment:
    decode: Step  # one decode instance: what the simulator iterates
    prefill: Step | None = None  # one replica (or rank) of the prefill pool when disaggregated
    prefill_nodes: int = 0
    decode_nodes: int = 1
    gpus_per_node: int = 1
    transfer_s_per_token: float = 0.0

    @property
    def layout(self) -> str:
        kind = "expert-parallel" if isinstance(self.decode, EpStepModel) else self.decode.placement
        return f"disaggregated ({self.prefill_nodes} prefill + {self.decode_nodes} decode nodes), {kind}" \
            if self.prefill else kind

    def prefill_pool(self) -> PrefillPool | None:
        if self.prefill is None:
            return None
        p = self.prefill
        return PrefillPool(prefill_s=lambda n: p.time(0, 0.0, n, n / 2), share=self.decode.replicas / p.replicas,
                           transfer_s_per_token=self.transfer_s_per_token)

    def with_memory_fraction(self, fraction: float | None, gpu_memory_gb: float) -> Deployment:
        """The same deployment with each GPU giving ``fraction`` of its memory to weights and KV cache
        instead of the step models' 0.9 (an engine's own default, e.g. SGLang's mem_fraction_static)."""
        if fraction is None or not gpu_memory_gb:
            return self
        return self.with_steps(lambda s: _kv_at_fraction(s, fraction, gpu_memory_gb))

    def with_steps(self, fn: Callable[[Step], Step]) -> Deployment:
        """The same deployment with ``fn`` applied to each step model (the serving constants)."""
        return replace(self, decode=fn(self.decode), prefill=fn(self.prefill) if self.prefill else None)


# Below this many KV-cache tokens an engine's default memory fraction is taken to have been raised by
# whoever ran it (SGLang 0.4.x's 0.81 on 8x H20 96 GB leaves none beside DeepSeek's FP8 weights): a
# placeholder floor, about four requests of 4k tokens.
MIN_KV_TOKENS = 16_384


def engine_memory(dep: Deployment, cfg: SchedulerConfig, gpu_memory_gb: float) -> tuple[Deployment, SchedulerConfig]:
    """The deployment's KV capacity at the engine's own memory fraction, unless that leaves almost no
    room, in which case the step models' 0.9 stands and the scheduler's source says so."""
    if cfg.memory_fraction is None:
        return dep, cfg
    at = dep.with_memory_fraction(cfg.memory_fraction, gpu_memory_gb)
    if at.decode.kv_capacity_tokens >= MIN_KV_TOKENS or at.decode.kv_capacity_tokens >= dep.decode.kv_capacity_tokens:
        return at, cfg
    return dep, replace(cfg, memory_fraction=None, source=cfg.source + f"; that fraction leaves under "
                        f"{MIN_KV_TOKENS:,} tokens of KV cache beside these weights, so a deployment raises it: 0.9 "
                        "assumed")


def _kv_at_fraction(step: Step, fraction: float, gpu_memory_gb: float) -> Step:
    if step.placement not in ("gpu", "expert-parallel"):
        return step
    delta = (1 - GPU_RESERVE_FRAC - fraction) * gpu_memory_gb * GPU_GB  # bytes per GPU given up (or gained)
    per_token = step.model.kv_bytes_per_token(step.kv_dtype_bytes)
    if per_token <= 0:
        return step
    if isinstance(step, EpStepModel):  # a rank keeps only its own requests' cache
        tokens = delta / per_token
    else:  # a tensor-parallel group: every GPU gives it up, each holding kv_copies / tp of a token
        tp = max(1, step.devices.tensor_parallel)
        tokens = delta * tp / (per_token * kv_copies(step.model, tp))
    return replace(step, kv_capacity_tokens=max(0, int(step.kv_capacity_tokens - tokens)))


def parse_disaggregate(text: str | None) -> tuple[int, int] | None:
    """``"1:3"`` → (1, 3): prefill nodes and decode nodes."""
    if not text:
        return None
    try:
        p, d = (int(x) for x in text.split(":"))
    except ValueError:
        raise HarnessError(f"--disaggregate {text!r}: write PREFILL:DECODE node counts, e.g. 1:1 or 4:18") from None
    if p < 1 or d < 1:
        raise HarnessError(f"--disaggregate {text!r}: each pool needs at least one node")
    return p, d


def _pool(machine: Machine, sc: Scenario, engines: EngineSet, nodes: int, expert_parallel: bool,
          tensor_parallel: int | None) -> Step:
    if expert_parallel or nodes > 1:
        eng_name = sc.engine if sc.engine != "auto" else auto_engine("multi-node", machine.gpu_count, nodes)
        eng = engines.resolve(eng_name)
        check_engine_on(eng, [g.model for g in machine.gpus], "expert-parallel")
        return ep_step_model(replace(machine, nodes=nodes), sc, eng, nodes=nodes)
    return step_model(replace(machine, nodes=1), replace(sc, placement="gpu"), engines, tensor_parallel=tensor_parallel)


# Tensor parallelism across nodes: each layer's two all-reduces (after attention, after the MoE) cross
# the network once per node boundary. PLACEHOLDER (no serving row binds it): NCCL's small-message
# all-reduce between two 8-GPU nodes over InfiniBand takes some tens of µs (nccl-tests all_reduce_perf,
# latency-bound sizes); 30 µs per all-reduce is assumed, beyond the intra-node floor of the engine.
INTER_NODE_ALLREDUCE_US = 30.0
ALLREDUCES_PER_LAYER = 2


def tensor_across_nodes(machine: Machine, sc: Scenario, engines: EngineSet, tp: int) -> StepModel:
    """One replica tensor parallel over ``tp`` GPUs of several nodes: the weights, bandwidth and KV
    cache of all of them, the engine's intra-node floor for one node's GPUs plus an inter-node hop per
    all-reduce (a placeholder, said so in the notes)."""
    per_node = machine.gpu_count
    if len(machine.gpus) != 1 or tp % per_node or not 1 < tp // per_node <= machine.nodes:
        raise HarnessError(f"--tensor-parallel {tp}: across nodes it must be a multiple of the {per_node} GPUs of "
                           f"a node, over at most {machine.nodes} nodes")
    flat = replace(machine, nodes=1, gpus=(replace(machine.gpus[0], count=tp),))
    step = step_model(flat, replace(sc, placement="gpu"), engines, tensor_parallel=tp)
    hops = tp // per_node - 1
    inter = sc.model.n_layers * ALLREDUCES_PER_LAYER * hops * INTER_NODE_ALLREDUCE_US * 1e-6
    node_dev = replace(step.devices, tensor_parallel=per_node)
    note = (f"tensor parallel over {tp} GPUs of {tp // per_node} nodes: the engine's floor for {per_node} GPUs plus "
            f"{INTER_NODE_ALLREDUCE_US:g} µs per all-reduce per node boundary, {ALLREDUCES_PER_LAYER} per layer "
            f"(a placeholder no published row binds)")
    kept = tuple(n for n in step.notes if not n.startswith(f"tensor parallel over {tp} GPUs:"))  # the flat floor's
    return replace(step, overhead_s=engine_overhead(sc.model, "gpu", node_dev, step.engine) + inter,
                   notes=kept + (note,))


def deployment(machine: Machine, sc: Scenario, engines: EngineSet, *, tensor_parallel: int | None = None,
               expert_parallel: bool = False, disaggregate: tuple[int, int] | None = None) -> Deployment:
    """The layout serving ``sc`` on ``machine``: one node's placement as ``predict`` picks it, expert
    parallelism over every GPU where asked or where the machine is a cluster (unless ``tensor_parallel``
    spans its nodes: one tensor-parallel replica over them), and separate prefill and decode pools with
    ``disaggregate`` = (prefill nodes, decode nodes)."""
    if (disaggregate is None and not expert_parallel and machine.nodes > 1 and tensor_parallel
            and tensor_parallel > machine.gpu_count):
        if sc.placement not in ("auto", "gpu", "multi-node"):
            raise HarnessError(f"placement {sc.placement!r} on a cluster: serving spreads the model over the GPUs")
        nodes = tensor_parallel // max(1, machine.gpu_count)
        return Deployment(decode=tensor_across_nodes(machine, sc, engines, tensor_parallel), decode_nodes=nodes,
                          gpus_per_node=machine.gpu_count)
    if disaggregate is None:
        if machine.nodes > 1 or expert_parallel:
            if sc.placement not in ("auto", "gpu", "multi-node"):
                raise HarnessError(f"placement {sc.placement!r} on a cluster: serving spreads the model over the GPUs")
            if not machine.gpus:
                raise HarnessError("expert parallelism needs GPUs in the machine spec")
            step = _pool(machine, sc, engines, machine.nodes, True, None)
            return Deployment(decode=step, decode_nodes=machine.nodes, gpus_per_node=machine.gpu_count)
        return Deployment(decode=step_model(machine, sc, engines, tensor_parallel=tensor_parallel),
                          gpus_per_node=max(1, machine.gpu_count))
    p_nodes, d_nodes = disaggregate
    if not machine.gpus:
        raise HarnessError("--disaggregate needs GPUs in the machine spec")
    if machine.nodes != p_nodes + d_nodes:
        raise HarnessError(f"--disaggregate {p_nodes}:{d_nodes} needs a cluster of {p_nodes + d_nodes} nodes; the "
                           f"machine spec has {machine.nodes} (set [cluster] nodes)")
    prefill = _pool(machine, sc, engines, p_nodes, expert_parallel, tensor_parallel)
    decode = _pool(machine, sc, engines, d_nodes, expert_parallel, tensor_parallel)
    per_node = machine.gpu_count
    link = (machine.interconnect_gbs or DEFAULT_NIC_GBS * per_node) * GB / per_node
    gpus_per_prefill = 1 if isinstance(prefill, EpStepModel) else per_node // max(1, prefill.replicas)
    transfer = sc.model.kv_bytes_per_token(sc.kv_dtype_bytes) / (link * gpus_per_prefill)
    return Deployment(decode=decode, prefill=prefill, prefill_nodes=p_nodes, decode_nodes=d_nodes,
                      gpus_per_node=per_node, transfer_s_per_token=transfer)
