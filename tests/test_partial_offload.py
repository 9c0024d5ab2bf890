"""Partial expert offload: a hybrid box keeps as many layers' routed experts on its GPUs as fit, so
hybrid is a continuum between "every expert in RAM" and "all on GPU", and more VRAM shows its value."""

from __future__ import annotations

from dataclasses import replace

from harness.calibration.fitfile import default_engines
from harness.documents.machines import load_machine
from harness.perf.batch import step_model
from harness.perf.capacity import GPU_RESERVE_FRAC, fitting_expert_layers, memory_breakdown
from harness.perf.devices import devices_for
from harness.perf.prediction import predict
from harness.workload import load_model
from harness.workload.quant import parse_quant
from harness.workload.scenario import Scenario

ENGINES = default_engines()
DSV3 = load_model("deepseek-v3")
SC = Scenario(model=DSV3, quant=parse_quant("q4_k_m"), placement="hybrid", engine="ktransformers")


def _layers(p) -> int:
    note = next((a for a in p.assumptions if "MoE layers on the GPU" in a), None)
    return int(note.split("routed experts of ")[1].split()[0]) if note else 0


def test_a_second_gpu_is_worth_something():
    two = load_machine("xeon6980p-2x-rtxpro6000")
    one = replace(two, gpus=(replace(two.gpus[0], count=1),))
    p1, p2 = predict(one, SC, ENGINES), predict(two, SC, ENGINES)
    assert p1.fits and p2.fits
    assert _layers(p2) > _layers(p1) > 0
    assert p2.decode_tokens_per_s > p1.decode_tokens_per_s * 1.1


def test_the_layer_count_is_a_continuum_and_fits():
    m = load_machine("xeon6980p-2x-rtxpro6000")
    rates = [predict(m, replace(SC, gpu_expert_layers=n), ENGINES).decode_tokens_per_s for n in (0, 8, 16, 24)]
    assert rates == sorted(rates) and rates[-1] > rates[0]
    dev = devices_for(m, ENGINES.resolve("ktransformers"), "hybrid")
    n = fitting_expert_layers(SC, dev, 1)
    gpu = sum(memory_breakdown(replace(SC, gpu_expert_layers=n), "hybrid", False)["gpu"].values())
    over = sum(memory_breakdown(replace(SC, gpu_expert_layers=n + 1), "hybrid", False)["gpu"].values())
    usable = dev.gpu_capacity * (1 - GPU_RESERVE_FRAC)
    assert gpu <= usable < over


def test_zero_keeps_every_expert_in_host_ram_and_is_stated():
    m = load_machine("xeon6980p-2x-rtxpro6000")
    p = predict(m, replace(SC, gpu_expert_layers=0), ENGINES)
    assert p.memory["gpu"].get("routed_experts", 0.0) == 0.0
    assert any("every MoE layer in host RAM" in a for a in p.assumptions)
    auto = predict(m, SC, ENGINES)
    assert auto.memory["gpu"]["routed_experts"] > 0 and auto.memory["host"]["routed_experts"] > 0


def test_serving_step_model_uses_the_same_split():
    m = load_machine("xeon6980p-2x-rtxpro6000")
    step = step_model(m, SC, ENGINES)
    assert step.expert_bytes["gpu"] > 0 and step.expert_bytes["host"] > 0
    assert any("MoE layers on the GPU" in n for n in step.notes)
    alone = step_model(m, replace(SC, gpu_expert_layers=0), ENGINES)
    assert step.time(1, 1024) < alone.time(1, 1024)


def test_auto_keeps_a_model_that_fits_on_the_gpus_there():
    """With every layer's experts able to move to a big GPU box, hybrid would be a GPU placement under a
    hybrid engine's profile: auto offers hybrid only where the GPUs cannot hold the weights."""
    p = predict(load_machine("8x-h200"), Scenario(model=DSV3, quant=parse_quant("fp8")), ENGINES)
    assert p.placement == "gpu" and p.fits
    small = predict(load_machine("epyc9355-rtx5090d"), Scenario(model=DSV3, quant=parse_quant("fp8")), ENGINES)
    assert small.placement == "hybrid"
