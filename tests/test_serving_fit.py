"""The serving fitter's machinery: its search finds a known optimum, its warm start reads only a
complete fit file, and each engine's early era has its own factor."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from harness.calibration.fit_serving import BOUNDS, NEUTRAL, ServingConstants, case_step, fit, warm_start
from harness.calibration.fitfile import default_engines
from harness.calibration.serving_rows import load_serving_cases
from harness.serving.eras import CURRENT, EARLY


def test_coordinate_descent_finds_a_known_optimum_inside_the_bounds():
    target = {**NEUTRAL, "prefill_scale": 3.0, "early_vllm_scale": 1.4, "seq_overhead_us": 60.0,
              "request_latency_s": 0.05, "early_sglang_scale": 9.0}  # 9 is out of bounds: stops at 5

    def objective(values: dict[str, float], cases: object) -> float:
        linear = {"seq_overhead_us": 100.0, "prefill_token_us": 100.0, "request_latency_s": 0.1}
        return sum(((values[k] - v) / linear[k]) ** 2 if k in linear else math.log(values[k] / v) ** 2
                   for k, v in target.items())

    got = fit([], sweeps=40, objective=objective)
    assert got["prefill_scale"] == pytest.approx(3.0, rel=0.05)
    assert got["early_vllm_scale"] == pytest.approx(1.4, rel=0.05)
    assert got["seq_overhead_us"] == pytest.approx(60.0, abs=5)
    assert got["request_latency_s"] == pytest.approx(0.05, abs=0.01)
    assert got["early_sglang_scale"] == BOUNDS["early_sglang_scale"][1]


def test_warm_start_needs_every_constant_and_keeps_them_in_bounds(tmp_path):
    path = tmp_path / "fit.json"
    assert warm_start(path) is None  # no file
    params = {k: {"value": v} for k, v in NEUTRAL.items()}
    path.write_text(json.dumps({"parameters": {k: v for k, v in params.items() if k != "early_vllm_scale"}}))
    assert warm_start(path) is None  # a constant of today's model missing: start from neutral
    params["prefill_scale"] = {"value": 1e6}
    path.write_text(json.dumps({"parameters": params}))
    start = warm_start(path)
    assert start is not None and start["prefill_scale"] == BOUNDS["prefill_scale"][1]
    path.write_text("{not json")
    assert warm_start(path) is None


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_each_engines_early_era_has_its_own_factor(engine):
    case = next(c for c in load_serving_cases() if c.usable and c.engine == engine and not c.expert_parallel)
    step = case_step(case, default_engines()).decode
    k = ServingConstants(early_vllm_scale=1.5, early_sglang_scale=2.5)
    want = 1.5 if engine == "vllm" else 2.5
    assert k.apply(step, EARLY).step_scale == want
    assert k.apply(step, CURRENT).step_scale == step.step_scale
    assert replace(k, early_vllm_scale=1.0, early_sglang_scale=1.0).apply(step, EARLY).step_scale == 1.0


def test_a_fold_without_rows_that_bind_a_constant_leaves_it_neutral():
    from harness.calibration.fit_serving import uninformed
    cases = [c for c in load_serving_cases() if c.usable]
    assert uninformed(cases) == []
    current = [c for c in cases if c.era == CURRENT]
    assert {"early_sglang_scale", "early_vllm_scale"} <= set(uninformed(current))
    early_vllm = [c for c in cases if c.era == EARLY and c.engine == "vllm"]
    assert "early_vllm_scale" not in uninformed(early_vllm) and "early_sglang_scale" in uninformed(early_vllm)
    assert "ep_overlap" in uninformed([c for c in cases if not c.expert_parallel])
