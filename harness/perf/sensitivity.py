"""What-if analysis on top of ``predict``: what to upgrade, how many users fit at a target speed,
and what a token costs. Pure: each answer is ``predict`` on a modified ``Machine`` or ``Scenario``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from harness.hardware.machine import Machine
from harness.hardware.prices import AMORTISATION_YEARS, cost_per_million
from harness.perf.devices import theoretical_bandwidth
from harness.perf.engines import EngineSet
from harness.perf.placement import tensor_parallel_size
from harness.perf.prediction import predict
from harness.workload.scenario import Scenario



def _host_scaled(m: Machine, factor: float, **changes: Any) -> Machine:
    """The machine with host bandwidth scaled by ``factor`` (measured and theoretical alike)."""
    theo = theoretical_bandwidth(m)
    return replace(m, measured_bandwidth_gbs=m.measured_bandwidth_gbs * factor if m.measured_bandwidth_gbs else None,
                   theoretical_bandwidth_gbs=theo * factor if theo else None,
                   **changes)


def upgrade_options(m: Machine) -> list[tuple[str, Machine]]:
    """Changes a buyer can make, each as a modified machine."""
    out: list[tuple[str, Machine]] = [("+10% host memory bandwidth", _host_scaled(m, 1.10))]
    if m.channels and m.sockets:
        more = m.channels + m.sockets
        out.append((f"one more memory channel per socket ({m.channels} → {more})",
                    _host_scaled(m, more / m.channels, channels=more)))
    if m.speed_mts:
        out.append((f"faster DIMMs ({m.speed_mts} → {m.speed_mts + 800} MT/s)",
                    _host_scaled(m, (m.speed_mts + 800) / m.speed_mts, speed_mts=m.speed_mts + 800)))
    if m.cores_per_socket:
        out.append((f"twice the CPU cores ({m.cores_per_socket} → {2 * m.cores_per_socket} per socket)",
                    replace(m, cores_per_socket=2 * m.cores_per_socket,
                            cpu_gflops_fp32=m.cpu_gflops_fp32 * 2 if m.cpu_gflops_fp32 else None)))
    if m.gpus and not m.has_unified_gpu:
        g = m.gpus[0]
        faster = replace(g, bandwidth_gbs=(g.bandwidth_gbs or 0) * 1.5 or None,
                         measured_bandwidth_gbs=g.measured_bandwidth_gbs * 1.5 if g.measured_bandwidth_gbs else None,
                         bf16_tflops=g.bf16_tflops * 1.5 if g.bf16_tflops else None)
        out.append((f"a faster GPU (1.5× the bandwidth and FLOP/s of {g.model})", replace(m, gpus=(faster, *m.gpus[1:]))))
        out.append((f"one more {g.model}", replace(m, gpus=(replace(g, count=g.count + 1), *m.gpus[1:]))))
        if g.pcie_gen:
            out.append((f"PCIe gen {g.pcie_gen + 1} instead of {g.pcie_gen}",
                        replace(m, gpus=(replace(g, pcie_gen=g.pcie_gen + 1), *m.gpus[1:]))))
    return out


def what_to_upgrade(machine: Machine, sc: Scenario, engines: EngineSet) -> list[dict[str, Any]]:
    """Decode tokens/s after each upgrade, best first. PCIe carries only activations in decode
    (hidden size × 2 bytes per layer hand-off), so a faster link shows no gain — stated, not hidden."""
    base = predict(machine, sc, engines)
    base_tps = base.decode_tokens_per_s or 0.0
    fixed = replace(sc, placement=base.placement, engine=base.engine)
    rows = []
    for label, m in upgrade_options(machine):
        tps = predict(m, fixed, engines).decode_tokens_per_s or 0.0
        rows.append({"change": label, "tokens_per_s": tps,
                     "gain_pct": 100 * (tps / base_tps - 1) if base_tps else None})
    return sorted(rows, key=lambda r: -(r["gain_pct"] or 0))


def largest_passing(ok: Callable[[int], bool], limit: int) -> int:
    """The largest n in 1..limit with ok(n), for ok true up to some n and false beyond (doubling, then
    bisection); 0 when ok(1) fails."""
    if not ok(1):
        return 0
    lo, hi = 1, 2
    while hi <= limit and ok(hi):
        lo, hi = hi, hi * 2
    hi = min(hi, limit + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def max_users_at(machine: Machine, sc: Scenario, engines: EngineSet, target_tps: float, limit: int = 4096) -> dict[str, Any]:
    """Largest number of concurrent users that each still get ``target_tps`` and fit in memory."""
    def ok(b: int) -> bool:
        p = predict(machine, replace(sc, batch=b), engines)
        return p.fits and (p.decode_tokens_per_s or 0.0) >= target_tps

    lo = largest_passing(ok, limit)
    if not lo:
        return {"target_tokens_per_s": target_tps, "max_users": 0}
    agg = predict(machine, replace(sc, batch=lo), engines).aggregate_tokens_per_s
    return {"target_tokens_per_s": target_tps, "max_users": lo, "aggregate_tokens_per_s": agg,
            "capped_at_search_limit": lo >= limit}


def copies(machine: Machine, sc: Scenario, engines: EngineSet, placement: str, engine: str) -> int:
    """How many copies of the predicted deployment the machine's price buys: the tensor-parallel
    replicas a GPU node holds (8 GPUs at TP4: 2), on each of its ``[cluster]`` nodes unless the
    placement spreads one deployment over them (multi-node): nodes of any other placement are
    replicas behind a load balancer."""
    per_node = 1
    if placement == "gpu" and machine.gpu_count > 1:
        per_node = max(1, machine.gpu_count // tensor_parallel_size(machine, sc, engines.resolve(engine)))
    return per_node * (1 if placement == "multi-node" else max(1, machine.nodes))


def cost(machine: Machine, aggregate_tps: float | None, n_copies: int = 1) -> dict[str, Any] | None:
    """Tokens/s per 10k of the machine's price and hardware cost per 1M output tokens. ``price`` is one
    box's (one node's): a cluster costs ``nodes`` of them; ``aggregate_tps`` is one deployment's, of
    which the machine holds ``n_copies``."""
    if not machine.price or not aggregate_tps:
        return None
    price = machine.price * max(1, machine.nodes)
    rate = aggregate_tps * max(1, n_copies)
    fleet = (f"; {machine.nodes} nodes at {machine.price:,.0f} each" if machine.nodes > 1 else "") + (
        f"; {n_copies} copies of the predicted deployment (replicas behind a load balancer), each generating at "
        "this rate" if n_copies > 1 else "")
    return {"currency": machine.currency or "(currency not stated)", "price": price, "copies": max(1, n_copies),
            "tokens_per_s_per_10k": rate / (price / 10_000),
            "cost_per_million_tokens": cost_per_million(price, rate),
            "assumption": f"hardware price amortised over {AMORTISATION_YEARS:g} years of continuous "
                          f"generation at this rate{fleet}; power, hosting and idle time not included"}


def replicated_users(users: dict[str, Any], boxes: int) -> dict[str, Any]:
    """Users served by ``boxes`` identical boxes behind a load balancer, each serving its own (a
    ``[cluster]`` whose placement does not spread one model over its nodes); ``boxes`` says how many."""
    if boxes <= 1:
        return users
    return users | {"boxes": boxes, "max_users": users["max_users"] * boxes,
                    **({"aggregate_tokens_per_s": users["aggregate_tokens_per_s"] * boxes}
                       if users.get("aggregate_tokens_per_s") else {})}


TARGET_TPS = 20.0  # a per-user speed that reads as fluent chat (the example)


def analyse(machine: Machine, sc: Scenario, engines: EngineSet, target_tps: float = TARGET_TPS) -> dict[str, Any]:
    """The extras a spec sheet shows next to a prediction: upgrades, users at a target, cost."""
    pred = predict(machine, sc, engines)
    fixed = replace(sc, placement=pred.placement, engine=pred.engine)
    boxes = max(1, machine.nodes) if pred.placement != "multi-node" else 1
    return {
        "upgrades": what_to_upgrade(machine, fixed, engines),
        "users_at_target": replicated_users(max_users_at(replace(machine, nodes=1) if boxes > 1 else machine, fixed, engines,
                                               target_tps), boxes),
        "cost": cost(machine, pred.aggregate_tokens_per_s, copies(machine, fixed, engines, pred.placement, pred.engine)),
    }
