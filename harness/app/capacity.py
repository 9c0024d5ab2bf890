"""Capacity answers through the serving simulator: how many users a machine serves at a per-user
speed, for ``predict``, ``run`` and the spec sheet (in place of the roofline's batch count)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.calibration.fit_serving import serving_setup
from harness.errors import HarnessError
from harness.hardware.machine import Machine
from harness.perf.engines import EngineSet
from harness.perf.sensitivity import replicated_users
from harness.serving.capacity import max_users
from harness.workload.scenario import Scenario


def simulated_users(machine: Machine, sc: Scenario, engines: EngineSet, target_tps: float) -> dict[str, Any] | None:
    """Users served at ``target_tps`` each, from the simulator (prompt ``sc.prompt`` tokens, answers
    filling the context); None where the simulator does not apply or nothing fits. A cluster is
    simulated as one expert-parallel group (one rank, its share of the users)."""
    boxes = 1
    if machine.nodes > 1 and sc.placement != "multi-node":  # a [cluster] of boxes serving as replicas
        boxes, machine = machine.nodes, replace(machine, nodes=1)
    try:
        setup = serving_setup(machine, sc, engines)
    except HarnessError:
        return None
    input_len, output_len = max(1, sc.prompt), max(1, sc.context - sc.prompt)
    if (input_len + output_len) > setup.step.kv_capacity_tokens:
        return None
    out = max_users(setup.step, setup.scheduler, target_tps, input_len=input_len, output_len=output_len,
                    request_latency_s=setup.request_latency_s)
    return replicated_users(out, boxes)


def with_simulated_users(machine: Machine, sc: Scenario, engines: EngineSet, prediction: dict[str, Any],
                         target_tps: float) -> dict[str, Any]:
    """The prediction with ``users_at_target`` from the simulator where it applies."""
    if not prediction.get("fits"):
        return prediction
    fixed = replace(sc, placement=prediction["placement"], engine=prediction["engine"])
    users = simulated_users(machine, fixed, engines, target_tps)
    return prediction | {"users_at_target": users} if users is not None else prediction
