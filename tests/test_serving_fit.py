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


def test_warm_start_starts_a_new_constant_neutral_and_keeps_them_in_bounds(tmp_path):
    path = tmp_path / "fit.json"
    assert warm_start(path) is None  # no file
    params = {k: {"value": v} for k, v in NEUTRAL.items()}
    params["early_sglang_scale"] = {"value": 2.0}
    path.write_text(json.dumps({"parameters": {k: v for k, v in params.items() if k != "early_vllm_scale"}}))
    start = warm_start(path)  # a constant the model gained since: neutral, the others as shipped
    assert start is not None and start["early_vllm_scale"] == NEUTRAL["early_vllm_scale"]
    assert start["early_sglang_scale"] == 2.0
    path.write_text(json.dumps({"parameters": {"old_constant": {"value": 3.0}}}))
    assert warm_start(path) is None  # none of today's
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


_KINDS = ["LMSYS-LEP-04", "ANT-H20-06", "VULTR-MI325X-DSV32-c1000", "SGLCB-DSV3-MI300X-c1",
          "DSTACK-mi300x-vllm-rnd-800-c64", "DSTACK-mi300x-sglang-gsp-gsp800-c64"]  # one cheap row per kind


def test_a_constant_a_row_does_not_read_leaves_it_unchanged():
    """The fit's cache keys a row on the constants ``relevant`` names: every other one must not move it."""
    from harness.calibration.fit_serving import _relevant_of, row_ratios
    base = {**NEUTRAL, "request_latency_s": 0.05, "seq_overhead_us": 30.0}
    for case_id in _KINDS:
        got = row_ratios(base, (case_id,))
        assert got[0], case_id
        for name in set(BOUNDS) - set(_relevant_of(case_id)):
            moved = {**base, name: BOUNDS[name][1] if base[name] != BOUNDS[name][1] else BOUNDS[name][0]}
            assert row_ratios(moved, (case_id,)) == got, (case_id, name)
    assert "early_vllm_scale" in _relevant_of("DSTACK-mi300x-vllm-rnd-800-c64")
    assert "ep_overlap" in _relevant_of("LMSYS-LEP-04") and "rocm_floor_scale" not in _relevant_of("LMSYS-LEP-04")


def test_the_row_cache_gives_the_plain_loss_and_reruns_only_the_rows_a_move_touches():
    from harness.calibration.fit_serving import RowCache, _usable_cases, loss
    cases = [c for c in _usable_cases() if c.id in _KINDS]
    cache = RowCache(None, 1)
    start = dict(NEUTRAL)
    assert cache.loss(start, cases) == pytest.approx(loss(start, cases))
    assert cache.simulated == len(cases)
    cache.loss(start, cases)
    assert cache.simulated == len(cases)  # nothing new
    moved = {**start, "early_vllm_scale": 1.7}
    assert cache.loss(moved, cases) == pytest.approx(loss(moved, cases))
    assert cache.simulated == len(cases) + 1  # the one early vLLM row


def test_an_early_build_on_amd_gpus_has_the_rocm_factor_too():
    case = next(c for c in load_serving_cases() if c.id == "DSTACK-mi300x-sglang-gsp-gsp800-c64")
    step = case_step(case, default_engines()).decode
    assert step.devices.rocm
    k = ServingConstants(early_sglang_scale=1.5, early_rocm_scale=2.0)
    assert k.apply(step, EARLY).step_scale == 3.0
    assert k.apply(step, CURRENT).step_scale == step.step_scale
    assert k.early_scale("sglang") == 1.5  # on NVIDIA GPUs the engine's own factor alone


def test_an_interrupted_runs_folds_are_reused_only_for_the_same_constants_and_rows(tmp_path, monkeypatch):
    from harness.calibration import fit_serving as fs
    monkeypatch.setattr(fs, "fit_path", lambda: tmp_path / "serving_fit.json")
    cases = [c for c in load_serving_cases() if c.id in _KINDS]
    values = dict(NEUTRAL)
    assert fs._done_folds(values, cases) == {}  # nothing saved
    done = {"dstack": [{"id": "x", "source": "dstack", "tpot_ms": 1.1}]}
    fs._save_folds(values, cases, done)
    assert fs._done_folds(values, cases) == done
    assert fs._done_folds({**values, "prefill_scale": 2.0}, cases) == {}  # other constants: start over
    assert fs._done_folds(values, cases[1:]) == {}  # other rows: start over
    fs.folds_path().write_text("{broken")
    assert fs._done_folds(values, cases) == {}


def test_a_vllm_build_before_mla_kernels_has_its_own_factor_on_top_of_the_early_one():
    """vLLM 0.7.0 ran DeepSeek without the MLA and FP8 kernel work of 0.7.1: its own factor multiplies
    the early one, and only for vLLM on an MLA model."""
    from harness.calibration.fit_serving import _relevant_of, uninformed
    from harness.serving.eras import pre_mla
    from harness.workload import load_model
    dsv3, qwen = load_model("deepseek-v3"), load_model("qwen3-235b-a22b")
    assert pre_mla(dsv3, "vllm", "0.7.0") and not pre_mla(dsv3, "vllm", "0.7.1")
    assert not pre_mla(dsv3, "vllm", None) and not pre_mla(dsv3, "sglang", "0.4.1")
    assert not pre_mla(qwen, "vllm", "0.7.0")  # no MLA to run as multi-head attention
    case = next(c for c in load_serving_cases() if c.id == "EARLY-VLLM12568-H200-v070V1-rr4")
    step = case_step(case, default_engines()).decode
    k = ServingConstants(early_vllm_scale=1.5, pre_mla_vllm_scale=2.0)
    assert k.apply(step, EARLY, pre_mla=True).step_scale == 3.0
    assert k.apply(step, EARLY).step_scale == 1.5
    assert k.apply(step, CURRENT, pre_mla=True).step_scale == step.step_scale
    assert k.early_scale("sglang", pre_mla=True) == 1.0  # SGLang's early builds had MLA kernels
    assert "pre_mla_vllm_scale" in _relevant_of("EARLY-VLLM12568-H200-v070V1-rr4")
    assert "pre_mla_vllm_scale" not in _relevant_of("DSTACK-mi300x-vllm-rnd-800-c64")  # 0.7.3
    cases = [c for c in load_serving_cases() if c.usable]
    without = [c for c in cases if c.id != "EARLY-VLLM12568-H200-v070V1-rr4"]
    assert "pre_mla_vllm_scale" in uninformed(without) and "early_vllm_scale" not in uninformed(without)


def test_a_fit_of_some_constants_holds_the_others():
    target = {**NEUTRAL, "prefill_scale": 3.0, "early_vllm_scale": 1.4}

    def objective(values: dict[str, float], cases: object) -> float:
        return sum(math.log(values[k] / v) ** 2 for k, v in target.items() if k not in ("request_latency_s",
                   "seq_overhead_us", "prefill_token_us"))

    got = fit([], sweeps=40, objective=objective, only=["early_vllm_scale"])
    assert got["early_vllm_scale"] == pytest.approx(1.4, rel=0.05)
    assert got["prefill_scale"] == NEUTRAL["prefill_scale"]


def test_only_names_known_constants():
    from harness.calibration.fit_serving import _only
    assert _only([]) is None
    assert _only(["--only", "early_vllm_scale,pre_mla_vllm_scale"]) == ["early_vllm_scale", "pre_mla_vllm_scale"]
    for bad in (["--only"], ["--only", "nonsense"]):
        with pytest.raises(SystemExit, match="--only takes"):
            _only(bad)


def test_folds_rerun_so_far_are_reported_beside_the_earlier_ones_only_for_the_shipped_fit(tmp_path, monkeypatch):
    from harness.calibration import fit_serving as fs
    from harness.calibration.serving_rerun import rerun_folds
    monkeypatch.setattr(fs, "fit_path", lambda: tmp_path / "serving_fit.json")  # the folds file beside it
    values = dict(NEUTRAL)
    fitted = {"parameters": {k: {"value": v} for k, v in values.items()}, "rows_used": ["a", "b", "c"],
              "leave_one_source_out_from": "an earlier fit",
              "leave_one_source_out_rows": [{"id": "a", "source": "s1", "tpot_ms": 3.0},
                                            {"id": "b", "source": "s1", "tpot_ms": 2.0},
                                            {"id": "c", "source": "s2", "tpot_ms": 1.0}]}
    assert rerun_folds(fitted) is None  # no folds file
    fs.folds_path().write_text(json.dumps({"constants": values, "rows_used": ["a", "b", "c"],
                                           "folds": {"s1": [{"id": "a", "source": "s1", "tpot_ms": 1.5},
                                                            {"id": "b", "source": "s1", "tpot_ms": 1.0}]}}))
    got = rerun_folds(fitted)
    assert got["sources"] == ["s1"] and got["of_sources"] == 2
    assert got["mape"]["tpot_ms_mape_pct"] == 25.0 and got["earlier_folds_same_rows"]["tpot_ms_mape_pct"] == 150.0
    assert rerun_folds({**fitted, "leave_one_source_out_from": None}) is None  # the headline is fresh
    other = {**fitted, "parameters": {**fitted["parameters"], "prefill_scale": {"value": 2.0}}}
    assert rerun_folds(other) is None  # folds of other constants
