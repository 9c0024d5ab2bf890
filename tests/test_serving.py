"""The serving simulator against queueing facts that hold whatever the machine: Little's law, the
low-load limits, monotone latency, saturation, M/D/1 waiting, conservation of tokens; and the
batch-1 step it is built on is predict's step."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.app.serve import serve_on
from harness.calibration.fitfile import default_engines
from harness.cli import app
from harness.documents.machines import load_machine
from harness.errors import HarnessError
from harness.perf import Scenario, predict
from harness.perf.batch import step_model
from harness.serving.metrics import serving_metrics
from harness.serving.scheduler import SchedulerConfig, per_rank, scheduler_for
from harness.serving.simulate import simulate
from harness.serving.workload import Load, parse_len_dist
from harness.workload import load_model
from harness.workload.quant import parse_quant

ENGINES = default_engines()
H200 = load_machine("8x-h200")
DSV3 = load_model("deepseek-v3")
STEP = step_model(H200, Scenario(model=DSV3, quant=parse_quant("fp8"), placement="gpu", engine="sglang"), ENGINES)
CFG = scheduler_for("sglang", 141)


def run(load: Load, cfg: SchedulerConfig = CFG, step_time=STEP.time, capacity: int = STEP.kv_capacity_tokens) -> dict:
    return serving_metrics(simulate(step_time, load, cfg, capacity))


@pytest.mark.parametrize("machine, model, quant, placement", [
    ("8x-h200", "deepseek-v3", "fp8", "gpu"), ("epyc9355-rtx5090d", "deepseek-v3", "q4_k_m", "hybrid"),
    ("xeon6454s-rtx4090", "qwen3-30b-a3b", "q4_k_m", "cpu"), ("apple-m3-ultra", "gpt-oss-120b", "mxfp4", "gpu")])
def test_one_user_step_is_the_batch1_prediction(machine, model, quant, placement):
    m = load_machine(machine)
    sc = Scenario(model=load_model(model), quant=parse_quant(quant), placement=placement, context=3000)
    step = step_model(m, sc, ENGINES)
    assert step.time(1, 3000) * predict(m, sc, ENGINES).decode_tokens_per_s == pytest.approx(1.0, rel=1e-9)


def test_closed_loop_obeys_littles_law():
    for c in (4, 32):
        r = run(Load(input_len=512, output_len=256, concurrency=c, requests=40 * c, len_ratio=0.5, seed=1))
        # L = λ·W over the run: mean requests in the system = throughput × mean end-to-end latency
        assert r["request_throughput"] * r["mean_e2el_ms"] / 1000 == pytest.approx(c, rel=0.05)


def test_low_load_gives_prefill_time_and_the_batch1_step():
    r = run(Load(input_len=1000, output_len=200, rate=0.01, requests=20, seed=2))
    prefill = STEP.time(0, 0.0, 1000, 500.0)
    assert r["median_ttft_ms"] == pytest.approx(prefill * 1000, rel=1e-6)
    assert r["median_tpot_ms"] == pytest.approx(STEP.time(1, 1100) * 1000, rel=0.01)


def test_tpot_does_not_fall_as_concurrency_grows_and_throughput_saturates():
    tpots, tputs = [], []
    for c in (1, 4, 16, 64, 256, 1024):
        r = run(Load(input_len=1024, output_len=512, concurrency=c, requests=max(100, 2 * c)))
        tpots.append(r["median_tpot_ms"])
        tputs.append(r["output_throughput"])
    assert all(b >= a * 0.999 for a, b in zip(tpots, tpots[1:]))
    assert all(b >= a * 0.999 for a, b in zip(tputs, tputs[1:]))
    # past the point where the step is compute-bound, more users add little
    assert tputs[-1] < 2.5 * tputs[-2]


def test_kv_capacity_bounds_the_batch_and_preempts():
    tight = 40 * 1024  # room for ~35 requests of 1,152 tokens
    r = run(Load(input_len=1024, output_len=128, concurrency=200, requests=400), capacity=tight)
    assert r["max_kv_cache_tokens"] <= tight
    loose = run(Load(input_len=1024, output_len=128, concurrency=200, requests=400))
    assert r["output_throughput"] < loose["output_throughput"]


def test_one_slot_server_matches_md1_waiting_time():
    """A server that runs one request at a time for a fixed D seconds, Poisson arrivals at λ: the mean
    wait in the queue is ρ·D / (2(1 − ρ)) (Pollaczek–Khinchine for deterministic service)."""
    per_step = 0.01
    cfg = SchedulerConfig(max_running=1, token_budget=10_000, block_size=16, source="test")
    service = 10 * per_step  # one prefill step + 9 decode steps
    lam = 5.0  # ρ = 0.5
    r = run(Load(input_len=16, output_len=10, rate=lam, requests=20_000, seed=3), cfg=cfg,
            step_time=lambda n, c, p, pc: per_step, capacity=10_000)
    rho = lam * service
    wait = rho * service / (2 * (1 - rho))
    assert (r["mean_ttft_ms"] / 1000 - per_step) == pytest.approx(wait, rel=0.07)


def test_tokens_are_conserved():
    load = Load(input_len=800, output_len=300, concurrency=16, requests=100, len_ratio=0.3, seed=4)
    trace = simulate(STEP.time, load, CFG, STEP.kv_capacity_tokens)
    assert [len(t) for t in trace.token_times] == list(trace.output_lens)
    assert all(np.all(np.diff(t) > 0) for t in trace.token_times if len(t) > 1)
    assert all(f >= a for f, a in zip(trace.first_tokens, trace.arrivals))


def test_fast_forward_gives_the_same_run_as_single_steps():
    load = Load(input_len=700, output_len=400, concurrency=3, requests=12, len_ratio=0.4, seed=5)
    fast = simulate(STEP.time, load, CFG, STEP.kv_capacity_tokens)
    single = simulate(STEP.time, load, CFG, STEP.kv_capacity_tokens, fast_forward=False)
    assert fast.iterations == single.iterations
    assert fast.finishes == pytest.approx(single.finishes, rel=1e-7)
    assert [t for ts in fast.token_times for t in ts] == pytest.approx([t for ts in single.token_times for t in ts],
                                                                       rel=1e-7)


def test_serve_command_json_has_benchmark_serving_keys():
    res = CliRunner().invoke(app, ["serve", "--machine", "8x-h200", "-c", "8", "--requests", "40", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("completed", "duration", "request_throughput", "output_throughput", "total_token_throughput",
                *(f"{s}_{m}_ms" for s in ("mean", "median", "p90", "p99") for m in ("ttft", "tpot", "itl", "e2el")),
                "goodput", "max_kv_cache_tokens", "preemptions", "bottleneck", "assumptions"):
        assert key in out
    assert out["completed"] == 40


def test_sweep_gives_one_point_per_concurrency():
    out = serve_on("8x-h200", sweep=[1, 16], requests=32, input_len=256, output_len=64)
    assert [p["concurrency"] for p in out["sweep"]] == [1, 16]


@pytest.mark.parametrize("args, message", [
    (["-c", "0"], "--concurrency"), (["--rate", "-1"], "--rate"), (["-c", "4", "--rate", "2"], "exactly one"),
    ([], "exactly one"), (["-c", "4", "--input-len", "0"], "--input-len"), (["-c", "4", "--len-dist", "gauss"], "--len-dist"),
    (["-c", "4", "--slo-tpot-ms", "1"], "below one user's own step"), (["-c", "4", "--engine", "sglang@"], "NAME@VERSION"),
    (["-c", "4", "--engine", "tgi"], "unknown engine"), (["--sweep", "1,x"], "--sweep"),
    (["-c", "4", "--engine", "sglang@banana"], "not a release number"),
])
def test_bad_serve_input_is_one_line_and_exit_2(args, message):
    res = CliRunner().invoke(app, ["serve", "--machine", "8x-h200", "--requests", "10", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_len_dist_parses():
    assert parse_len_dist("fixed") == 1.0 and parse_len_dist("uniform:0.5") == 0.5
    with pytest.raises(HarnessError):
        parse_len_dist("uniform:0")


def test_validate_serving_scores_and_explains_skips():
    res = CliRunner().invoke(app, ["validate", "--serving", "--json"])
    assert res.exit_code == 0, res.output[-500:]
    out = json.loads(res.output)
    assert out["count"] >= 50 and out["skipped"] and all(s["why"] for s in out["skipped"])
    assert out["in_sample"]["output_throughput_mape_pct"] is not None


def test_engine_version_selects_an_era_and_is_said():
    early = serve_on("8x-h200", engine="sglang@0.4.2", concurrency=8, requests=16, input_len=512, output_len=128)
    current = serve_on("8x-h200", engine="sglang@0.5.7", concurrency=8, requests=16, input_len=512, output_len=128)
    assert "early-2025 era" in early["assumptions"][0] and "current era" in current["assumptions"][0]
    from harness.calibration.fit_serving import default_serving_constants
    k = default_serving_constants()
    if k.early_sglang_scale > 1:
        assert early["median_tpot_ms"] > current["median_tpot_ms"]


def test_vllm_before_its_mla_kernels_says_its_own_slowdown():
    kw = dict(concurrency=2, requests=4, input_len=256, output_len=32)
    old = serve_on("8x-h200", engine="vllm@0.7.0", **kw)
    later = serve_on("8x-h200", engine="vllm@0.7.3", **kw)
    said = " ".join(old["assumptions"])
    assert "before vLLM 0.7.1's MLA kernels" in said and "multi-head attention" in said
    assert "before vLLM 0.7.1" not in " ".join(later["assumptions"])
    from harness.calibration.fit_serving import default_serving_constants
    k = default_serving_constants()
    assert f"×{k.early_scale('vllm', False, True):g}" in said


def test_serving_constants_come_from_the_fit_file():
    from harness.calibration.fit_serving import BOUNDS, default_serving_constants, fit_path
    doc = json.loads(fit_path().read_text())
    assert set(doc["parameters"]) == set(BOUNDS)
    k = default_serving_constants()
    for name, record in doc["parameters"].items():
        low, high = BOUNDS[name]
        assert record["status"] == "fitted" and low <= getattr(k, name) == record["value"] <= high
    if doc.get("leave_one_source_out_from"):  # folds kept from an earlier fit (--keep-folds) say which
        assert "not rerun" in doc["leave_one_source_out_from"]
        assert doc["mape"]["leave_one_source_out"]["rows"] <= len(doc["rows_used"])
    else:
        assert doc["mape"]["leave_one_source_out"]["rows"] == len(doc["rows_used"])


def test_one_user_in_serve_decodes_at_predicts_batch1_speed():
    """The serving constants that change a decode step live in the engine profiles predict uses, so
    one closed-loop user's TPOT is predict's batch-1 step (at the mean context of the answer)."""
    out = serve_on("8x-h200", concurrency=1, requests=4, input_len=1024, output_len=256)
    sc = Scenario(model=DSV3, quant=parse_quant("fp8"), context=1024 + 128)
    batch1 = predict(H200, sc, ENGINES)
    assert out["engine"] == batch1.engine and out["mean_tpot_ms"] == pytest.approx(1000 / batch1.decode_tokens_per_s,
                                                                                    rel=0.01)


def test_multi_token_prediction_emits_more_tokens_per_step_and_conserves_them():
    load = Load(input_len=512, output_len=300, concurrency=8, requests=24, seed=6)
    plain = simulate(STEP.time, load, CFG, STEP.kv_capacity_tokens)
    mtp = simulate(STEP.time, load, CFG, STEP.kv_capacity_tokens, mtp_acceptance=0.85)
    assert [len(t) for t in mtp.token_times] == list(mtp.output_lens)
    assert mtp.iterations < plain.iterations
    assert serving_metrics(mtp)["median_tpot_ms"] < serving_metrics(plain)["median_tpot_ms"]
    ignored = serve_on("8x-h200", model="qwen3-30b-a3b", quant="fp8", concurrency=2, requests=4, input_len=128,
                       output_len=32, mtp=True)
    assert any("--mtp ignored" in a for a in ignored["assumptions"])


def _burst_trace(cfg: SchedulerConfig):
    load = Load(input_len=4000, output_len=50, concurrency=16, requests=16, seed=6)
    return simulate(STEP.time, load, cfg, STEP.kv_capacity_tokens)


def test_prefill_first_stalls_decode_until_the_admitted_prompts_are_done():
    """SGLang (no mixed chunk): while prompts can be admitted, steps carry prompts only, so a burst's
    first request emits its second token only after the last admitted prompt's first token."""
    cfg = scheduler_for("sglang", 141)
    assert cfg.prefill_first
    trace = _burst_trace(cfg)
    last_first = max(trace.first_tokens)
    assert min(ts[1] for ts in trace.token_times) > last_first


def test_mixed_steps_decode_while_later_prompts_prefill():
    """vLLM V1: running requests decode in every step and prompt chunks fill the rest of the budget."""
    cfg = scheduler_for("vllm", 141)
    assert not cfg.prefill_first
    trace = _burst_trace(cfg)
    assert min(ts[1] for ts in trace.token_times) < max(trace.first_tokens)
    # the stall shows in TPOT: the same burst decodes faster per token when decode is not held back
    first = serving_metrics(_burst_trace(replace(cfg, prefill_first=True)))
    assert serving_metrics(trace)["mean_tpot_ms"] < first["mean_tpot_ms"]


def test_fast_forward_matches_single_steps_in_mixed_mode():
    cfg = scheduler_for("vllm", 141)
    load = Load(input_len=700, output_len=400, concurrency=5, requests=15, len_ratio=0.4, seed=7)
    fast = simulate(STEP.time, load, cfg, STEP.kv_capacity_tokens)
    single = simulate(STEP.time, load, cfg, STEP.kv_capacity_tokens, fast_forward=False)
    assert fast.finishes == pytest.approx(single.finishes, rel=1e-7)


def test_engine_eras_pick_their_scheduling():
    v0 = scheduler_for("vllm", 141, era="early-2025", mla=True)
    assert v0.prefill_first and v0.max_running == 256 and v0.token_budget >= 100_000
    v0_gqa = scheduler_for("vllm", 141, era="early-2025", mla=False)
    assert not v0_gqa.prefill_first and v0_gqa.token_budget == 2048
    assert not scheduler_for("vllm", 141).prefill_first
    assert not scheduler_for("tensorrt-llm", 141).prefill_first


def test_sglang_dp_attention_divides_the_chunk_among_ranks():
    cfg = scheduler_for("sglang", 141)
    rank = per_rank(cfg, "sglang", 8, explicit=False)
    assert rank.token_budget == cfg.token_budget // 8 and rank.max_running == cfg.max_running
    assert per_rank(cfg, "sglang", 8, explicit=True).max_running == cfg.max_running // 8
    assert per_rank(cfg, "vllm", 8, explicit=True) == cfg


def test_sglang_05_reserves_memory_as_its_server_args_do():
    from harness.serving.scheduler import sglang_memory_fraction
    # by hand from server_args._handle_gpu_memory_settings: 512 MB + 1.5 MB per chunk token + 2 MB per
    # graph batch size + 1 GB per 8 GPUs (at least 10 GB over 60 GB); DP attention 4.5 MB per rank and size
    assert sglang_memory_fraction(141, 8192, 8) == round(1 - (512 + 8192 * 1.5 + 1024 + 1024) / (141 * 1024), 3)
    assert sglang_memory_fraction(80, 8192, 1) == round(1 - (512 + 8192 * 1.5 + 512 + 128) / (80 * 1024), 3)
    assert sglang_memory_fraction(141, 8192, 8, dp_attention=True) == round(
        1 - (512 + 8192 * 1.5 + 1024 + 1024 + 512 * 8 * 4.5) / (141 * 1024), 3)
    assert sglang_memory_fraction(24, 2048, 1) == round(1 - (512 + 2048 * 1.5 + 24 * 2 + 128) / (24 * 1024), 3)
    assert sglang_memory_fraction(141, 8192, 8, speculative=True) < sglang_memory_fraction(141, 8192, 8)
    assert scheduler_for("sglang", 80, world_size=1).memory_fraction == sglang_memory_fraction(80, 8192, 1)
    assert scheduler_for("sglang", 80, era="early-2025", world_size=1).memory_fraction == 0.88


def test_sglang_04_takes_its_memory_fraction_unless_nothing_is_left():
    from harness.calibration.fit_serving import serving_setup
    sc = Scenario(model=DSV3, quant=parse_quant("fp8"), engine="sglang", placement="auto", context=2048, prompt=1024)
    assert scheduler_for("sglang", 141, era="early-2025", world_size=8).memory_fraction == 0.81
    early = serving_setup(H200, sc, ENGINES, version="0.4.2")
    current = serving_setup(H200, sc, ENGINES)
    # 0.81 instead of 0.5.x's 0.897 of each GPU's 141 GiB, every GPU holding the whole MLA cache
    assert current.scheduler.memory_fraction == 0.897
    lost = (0.897 - 0.81) * 141 * 2**30 / DSV3.kv_bytes_per_token(2.0)
    assert current.step.kv_capacity_tokens - early.step.kv_capacity_tokens == pytest.approx(lost, rel=0.01)
    h20 = serving_setup(load_machine("8x-h20"), sc, ENGINES, version="0.4.2")  # 0.81 x 96 GiB < the weights
    assert h20.step.kv_capacity_tokens > 16_384 and "0.9 assumed" in h20.scheduler.source


def test_slo_capacity_is_the_edge_of_the_slo():
    """The largest concurrency and request rate whose simulated P90 TTFT and TPOT keep the SLO: one
    more user, or a tenth more load, breaks it."""
    from harness.serving.capacity import meets_slo, slo_capacity
    cfg = SchedulerConfig(max_running=256, token_budget=4096, block_size=16, source="test")

    def step(n, c, p, pc):  # 10 ms, +1 ms per decoding request, 20 µs per prompt token
        return 0.01 + 0.001 * n + 2e-5 * p

    def run(load):
        return serving_metrics(simulate(step, load.check(), cfg, 10**7))

    base = Load(input_len=500, output_len=100, concurrency=1, seed=8)
    cap = slo_capacity(run, base, slo_ttft_ms=400, slo_tpot_ms=40, max_concurrency=512)
    c, r = cap["max_concurrency"], cap["max_request_rate"]
    assert 1 < c < 512 and r > 0
    point = lambda **kw: run(replace(base, requests=max(64, 3 * (kw.get("concurrency") or 0)), **kw))
    assert meets_slo(point(concurrency=c), 400, 40) and not meets_slo(point(concurrency=c + 1), 400, 40)
    open_loop = lambda rate: run(replace(base, concurrency=None, rate=rate, requests=max(64, min(2000, int(rate * 120)))))
    assert meets_slo(open_loop(r), 400, 40) and not meets_slo(open_loop(r * 1.1), 400, 40)


def test_serve_with_an_slo_reports_the_load_that_keeps_it():
    res = CliRunner().invoke(app, ["serve", "--machine", "8x-h200", "-c", "8", "--requests", "32",
                                   "--slo-ttft-ms", "3000", "--slo-tpot-ms", "60", "--json"])
    assert res.exit_code == 0, res.output
    cap = json.loads(res.output)["slo_capacity"]
    assert cap["statistic"] == "p90" and cap["max_concurrency"] >= 1 and cap["max_request_rate"] > 0
