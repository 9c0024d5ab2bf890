"""Serving layouts beyond one tensor-parallel node: expert parallelism with data-parallel attention
(one node or a cluster), prefill/decode disaggregation, prefix caching, heavy-tailed lengths, and
the published rows that use them."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from harness.app.serve import serve_on
from harness.calibration.fitfile import default_engines
from harness.calibration.serving_rows import _speculation, load_serving_cases
from harness.cli import app
from harness.documents.machines import load_machine
from harness.errors import HarnessError
from harness.hardware.machine import GpuSpec, Machine
from harness.perf import Scenario
from harness.perf.ep_batch import ep_step_model
from harness.serving.deployment import deployment, parse_disaggregate
from harness.serving.metrics import serving_metrics
from harness.serving.point import replica_load, serve_point
from harness.serving.scheduler import per_rank, scheduler_for
from harness.serving.simulate import PrefillPool, simulate
from harness.serving.workload import Load, make_requests, parse_len_shape
from harness.workload import load_model
from harness.workload.quant import parse_quant

ENGINES = default_engines()
SGLANG = ENGINES.resolve("sglang")
DSV3 = load_model("deepseek-v3")
SC = Scenario(model=DSV3, quant=parse_quant("fp8"), placement="gpu", engine="sglang", context=3000, prompt=2000)


def cluster(nodes: int, gpu: str = "H800", memory: float = 80, bw: float = 3350, tflops: float = 989,
            link: float | None = 400.0) -> Machine:
    return Machine(name=f"{nodes} x 8 {gpu}", source="test", nodes=nodes, interconnect_gbs=link,
                   gpus=(GpuSpec(model=gpu, count=8, memory_gb=memory, bandwidth_gbs=bw, bf16_tflops=tflops),))


def test_expert_parallel_rank_reads_its_share_of_the_experts():
    small, big = ep_step_model(cluster(4), SC, SGLANG), ep_step_model(cluster(16), SC, SGLANG)
    assert (small.ranks, big.ranks) == (32, 128)
    # more ranks: fewer experts per GPU, so more room for KV and fewer expert bytes at the same per-rank batch
    assert big.kv_capacity_tokens > small.kv_capacity_tokens
    one = {k: v for k, v in big.parts(8, 3000).items() if k != "interconnect"}
    assert sum(one.values()) <= sum(v for k, v in small.parts(8, 3000).items() if k != "interconnect") + 1e-12
    # the rank's time grows with its batch, and a bigger batch never takes less time
    times = [big.time(b, 3000) for b in (1, 8, 64, 256)]
    assert times == sorted(times)


def test_all_to_all_shows_only_where_it_is_not_hidden():
    st = ep_step_model(cluster(18), SC, SGLANG)
    hidden, exposed = replace(st, overlap=1.0), replace(st, overlap=0.0)
    for b in (4, 64, 256):
        assert exposed.time(b, 4000) >= hidden.time(b, 4000)
    one_node = ep_step_model(cluster(1, "H200", 141, 4800), SC, SGLANG)
    # one node: the all-to-all stays on NVLink; only DeepEP's per-layer latency is left
    assert one_node.parts(64, 4000)["interconnect"] <= st.parts(64, 4000)["interconnect"] + 1e-12


def test_a_model_that_does_not_fit_expert_parallel_says_so():
    with pytest.raises(HarnessError, match="does not fit expert-parallel over 8"):
        ep_step_model(cluster(1), SC, SGLANG)


def test_disaggregate_parses_and_checks_the_cluster():
    assert parse_disaggregate("4:18") == (4, 18)
    for bad in ("4", "a:b", "0:3", "1:2:3"):
        with pytest.raises(HarnessError):
            parse_disaggregate(bad)
    with pytest.raises(HarnessError, match="needs a cluster of 22 nodes"):
        deployment(cluster(20), SC, ENGINES, disaggregate=(4, 18))
    dep = deployment(cluster(22), SC, ENGINES, disaggregate=(4, 18))
    assert dep.prefill.ranks == 32 and dep.decode.ranks == 144
    assert dep.prefill_pool().share == pytest.approx(144 / 32)


def test_prefill_pool_sets_ttft_and_keeps_prefill_out_of_the_decode_steps():
    calls = []

    def step(n, ctx, p, pctx):
        calls.append(p)
        return 0.01 + 0.001 * n

    pool = PrefillPool(prefill_s=lambda n: 0.5, share=1.0, transfer_s_per_token=1e-4)
    cfg = scheduler_for("sglang", 141)
    load = Load(input_len=1000, output_len=50, rate=0.05, requests=20, seed=3)
    r = serving_metrics(simulate(step, load, cfg, 10 ** 6, prefill_pool=pool))
    # a lone request: its prompt's prefill time plus the KV transfer, then decode steps of one
    assert r["median_ttft_ms"] == pytest.approx(500 + 100, rel=1e-6)
    assert r["median_tpot_ms"] == pytest.approx(11, rel=1e-3)
    assert not any(calls)  # the decode instance never prefilled
    assert r["total_output_tokens"] == 20 * 50


def test_a_busy_prefill_pool_queues_prompts_like_a_single_server():
    # one prefill server of 1 s per prompt under Poisson arrivals at 0.5/s: M/D/1 wait = rho/(2 mu (1-rho)) = 0.5 s
    pool = PrefillPool(prefill_s=lambda n: 1.0, share=1.0, transfer_s_per_token=0.0)
    load = Load(input_len=100, output_len=2, rate=0.5, requests=4000, seed=5)
    tr = simulate(lambda n, c, p, pc: 1e-4, load, scheduler_for("sglang", 141), 10 ** 7, prefill_pool=pool)
    waits = [f - a - 1.0 for a, f in zip(tr.arrivals, tr.first_tokens)]
    assert statistics.fmean(waits) == pytest.approx(0.5, rel=0.12)


def test_prefix_hits_shorten_prefill():
    step = lambda n, c, p, pc: 0.01 + 1e-4 * p  # noqa: E731
    cfg = scheduler_for("vllm", 80)
    cold = serving_metrics(simulate(step, Load(input_len=4000, output_len=20, rate=0.01, requests=10), cfg, 10 ** 6))
    warm = serving_metrics(simulate(step, Load(input_len=4000, output_len=20, rate=0.01, requests=10, prefix_hit=0.75),
                                    cfg, 10 ** 6))
    assert warm["median_ttft_ms"] < 0.6 * cold["median_ttft_ms"]
    with pytest.raises(HarnessError, match="prefix-hit"):
        Load(input_len=10, output_len=10, rate=1, prefix_hit=1.0).check()


def test_sharegpt_lengths_are_heavy_tailed_around_the_given_means():
    assert parse_len_shape("sharegpt")[1] > 0 and parse_len_shape("lognormal:0.5") == (1.0, 0.5)
    with pytest.raises(HarnessError):
        parse_len_shape("lognormal:9")
    reqs = make_requests(Load(input_len=217, output_len=200, rate=1, requests=5000, len_sigma=1.0, seed=1))
    ins = [r.input_len for r in reqs]
    assert statistics.fmean(ins) == pytest.approx(217, rel=0.08)
    assert statistics.median(ins) < 0.8 * statistics.fmean(ins)  # a long tail: the median below the mean


def test_fewer_clients_than_replicas_load_only_that_many():
    share, carrying = replica_load(Load(input_len=10, output_len=10, concurrency=3, requests=30), 8)
    assert share.concurrency == 1 and carrying == pytest.approx(3)
    share, carrying = replica_load(Load(input_len=10, output_len=10, concurrency=100, requests=400), 8)
    assert share.concurrency * carrying == pytest.approx(100)


def test_one_user_on_a_cluster_gets_one_ranks_speed():
    dep = deployment(cluster(18), SC, ENGINES)
    cfg = scheduler_for("sglang", 80)
    one = serve_point(dep.decode, Load(input_len=2000, output_len=100, concurrency=1, requests=4), cfg)
    assert one["output_throughput"] == pytest.approx(1000 / one["mean_tpot_ms"], rel=0.1)


def test_sglang_speculative_decoding_limits_running_requests():
    cfg = scheduler_for("sglang", 141, speculative=True)
    assert cfg.max_running == 48
    assert per_rank(cfg, "sglang", 8, explicit=True).max_running == 6
    assert per_rank(scheduler_for("sglang", 141), "sglang", 8, explicit=False).max_running == 4096
    assert per_rank(scheduler_for("vllm", 141), "vllm", 8, explicit=True).max_running == 1024


def test_speculation_reads_draft_tokens_and_accept_length():
    assert _speculation({"engine_and_version": "SGLang 0.5.7", "parallelism": "EAGLE MTP (3 steps, 4 draft tokens)",
                         "quote": "Accept length: 2.61"}) == (3, pytest.approx(1.61))
    n, a = _speculation({"engine_and_version": "SGLang + MTP", "parallelism": "", "quote": ""})
    assert n == 1 and 0 < a < 1
    assert _speculation({"engine_and_version": "vLLM 0.11", "parallelism": "TP8", "quote": ""}) == (0, 0.0)


def test_published_expert_parallel_rows_are_read_as_their_layouts():
    cases = {c.id: c for c in load_serving_cases()}
    lep = cases["LMSYS-LEP-01"]
    assert lep.usable and lep.expert_parallel and lep.prefill_free
    assert lep.machine.nodes == 9 and lep.concurrency == 256 * 72
    pd = cases["SGL5490-H200-1P1D-c128"]
    assert pd.usable and pd.disaggregate == (1, 1) and pd.input_len == 1024
    prefill = cases["LMSYS-LEP-04"]  # a prefill node's input tokens/s
    assert prefill.usable and prefill.input_throughput == 54543 and prefill.expert_parallel
    assert prefill.machine.nodes == 4 and prefill.token_budget == 16384
    ant = cases["ANT-H20-06"]  # "prefill on separate 8x H20 TP8 nodes"
    assert ant.usable and ant.input_throughput == 16500 and not ant.expert_parallel and ant.machine.nodes == 1


def test_dp_attention_launched_without_a_dp_size_is_read_as_tensor_parallel():
    """SGLang 0.5.x turns --enable-dp-attention off at dp_size 1: GPUStack's 'TP8 + DP-attention' runs,
    launched without --dp, ran TP8; a row that gives a DP size stays data-parallel attention."""
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "SGLang 0.5.3",
           "hardware": "8x NVIDIA H200 141GB", "input_len": "1000", "output_len": "100", "concurrency": "8",
           "output_tok_s_aggregate": "500", "source_group": "t"}
    assert to_case({**row, "parallelism": "TP8 + DP8 attention"}).expert_parallel
    assert not to_case({**row, "parallelism": "TP8 + DP-attention as labelled, launched --tp-size 8 "
                                              "--enable-dp-attention without --dp: runs TP8"}).expert_parallel
    cases = {c.id: c for c in load_serving_cases()}
    assert not any(cases[f"GPUS-DSR1-{n}"].expert_parallel for n in ("04", "05", "09", "10", "11"))
    assert cases["SGLCB-DSV3-MI300X-c100"].expert_parallel


def test_inferencex_rows_run_as_its_client_does():
    c = {c.id: c for c in load_serving_cases()}["INFX870-H200-FP8-c64"]
    assert c.requests == 640 and c.len_ratio == 0.8


def test_a_node_count_in_parentheses_spreads_the_gpus(tmp_path):
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "vLLM 0.7.3",
           "hardware": "16x NVIDIA H100 80GB (2 nodes)", "parallelism": "TP8 PP2", "input_len": "512",
           "output_len": "512", "concurrency": "1", "output_tok_s_aggregate": "20", "source_group": "t"}
    case = to_case(row)
    assert case.usable and case.machine.nodes == 2 and case.machine.gpus[0].count == 8


def test_serve_on_a_cluster_disaggregated(tmp_path):
    spec = tmp_path / "c.toml"
    spec.write_text('name = "c"\n[[gpus]]\nmodel = "H800"\ncount = 8\nmemory_gb = 80\nbandwidth_gbs = 3350\n'
                    'bf16_tflops = 989\n[cluster]\nnodes = 6\ninterconnect_gbs = 400\n')
    out = serve_on(str(spec), concurrency=256, input_len=1000, output_len=100, disaggregate="2:4", prefix_hit=0.5)
    assert out["layout"].startswith("disaggregated (2 prefill + 4 decode nodes)")
    assert out["output_throughput_per_node"] == pytest.approx(out["output_throughput"] / 6)
    assert out["completed"] >= 256
    res = CliRunner().invoke(app, ["serve", "--machine", str(spec), "-c", "64", "--disaggregate", "2:4"])
    assert res.exit_code == 0 and "output tok/s per node" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["serve", "--machine", str(spec), "-c", "8", "--disaggregate", "1:1"])
    assert res.exit_code == 2 and "needs a cluster of 2 nodes" in res.output
    res = CliRunner().invoke(app, ["serve", "--machine", str(spec), "-c", "8", "--len-dist", "zipf", "--json"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(app, ["serve", "--machine", "8x-h200", "-c", "16", "--expert-parallel", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["layout"] == "expert-parallel"


def test_single_node_serving_is_unchanged_by_the_layout_machinery():
    m = load_machine("8x-h200")
    dep = deployment(m, SC, ENGINES)
    assert dep.prefill is None and dep.decode.placement == "gpu"


def test_a_clusters_users_at_target_come_from_the_simulator(tmp_path):
    from harness.app.api import predict_on
    spec = tmp_path / "c.toml"
    spec.write_text('name = "c"\n[[gpus]]\nmodel = "H800"\ncount = 8\nmemory_gb = 80\nbandwidth_gbs = 3350\n'
                    'bf16_tflops = 989\n[cluster]\nnodes = 4\ninterconnect_gbs = 400\n')
    users = predict_on(str(spec), target_tps=20.0)["users_at_target"]
    assert users["simulated"] and users["replicas"] == 32
    assert users["max_users"] % 32 == 0 and 1000 / users["median_tpot_ms"] >= users["target_tokens_per_s"]


def test_tensor_parallel_kv_copies_follow_the_kv_heads():
    from harness.perf.capacity import kv_copies
    assert kv_copies(DSV3, 8) == 8  # MLA: one latent per token, held by every GPU
    assert kv_copies(DSV3, 1) == 1
    qwen = load_model("qwen3-235b-a22b")  # 4 KV heads
    assert kv_copies(qwen, 8) == 2 and kv_copies(qwen, 4) == 1
    m = load_machine("8x-h200")
    tp8 = deployment(m, SC, ENGINES, tensor_parallel=8).decode
    ep8 = deployment(m, SC, ENGINES, expert_parallel=True).decode
    # data-parallel attention keeps one copy per request: far more tokens fit on the node
    assert ep8.kv_capacity_tokens * ep8.ranks > 4 * tp8.kv_capacity_tokens


def test_tensorrt_llm_is_an_engine_with_its_own_limits():
    assert ENGINES.resolve("trtllm").name == "tensorrt-llm"
    cfg = scheduler_for("tensorrt-llm", 141)
    assert (cfg.max_running, cfg.token_budget, cfg.block_size) == (2048, 8192, 32)
    out = serve_on("8x-h200", engine="tensorrt-llm", concurrency=8, input_len=512, output_len=64, requests=16)
    assert out["engine"] == "tensorrt-llm" and out["completed"] == 16


@pytest.mark.parametrize("hardware, nodes, per_node, memory", [
    ("8x NVIDIA H200 141GB", 1, 8, 141), ("8×H200", 1, 8, 141), ("8 x NVIDIA H200", 1, 8, 141),
    ("8x H20 (96GB)", 1, 8, 96), ("8x H20-141G", 1, 8, 141), ("2x8 H100 80GB", 2, 8, 80),
    ("2 nodes x 8x H100 80GB", 2, 8, 80), ("16x H100 80GB (2x8)", 2, 8, 80), ("Dual-node 8x H100 80GB", 2, 8, 80),
    ("two nodes, 8x H800 80GB each", 2, 8, 80)])
def test_hardware_as_people_write_it(hardware, nodes, per_node, memory):
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "SGLang v0.4.3",
           "hardware": hardware, "parallelism": "TP8", "input_len": "1024", "output_len": "1024",
           "concurrency": "c=64", "output_tok_s_aggregate": "1.5k", "source_group": "t"}
    case = to_case(row)
    assert case.usable, case.why_not
    assert (case.machine.nodes, case.machine.gpus[0].count, case.machine.gpus[0].memory_gb) == (nodes, per_node, memory)
    assert case.concurrency == 64 and case.output_throughput == 1500  # a throughput's k is 1,000
    assert to_case(row | {"concurrency": "decode batch size 480"}).why_not == "no concurrency or request rate stated"


def test_random_lengths_are_full_when_a_first_token_outlasts_a_half_length_run():
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "vLLM v0.11.0",
           "hardware": "8x NVIDIA H200 141GB", "parallelism": "TP8", "input_len": "4000 (random)",
           "output_len": "200", "concurrency": "unbounded: 500 prompts at request_rate=inf", "request_rate": "inf",
           "output_tok_s_aggregate": "753.67", "source_group": "t"}
    # 500 x 200 tokens at 754 tok/s last 133 s; at half lengths 66 s, shorter than a 124 s first token
    assert to_case(row | {"ttft_ms": "mean 63058 / median 61952 / P99 124112"}).len_ratio == 1.0
    assert to_case(row | {"ttft_ms": "mean 20000 / P99 40000"}).len_ratio == 0.02


def test_tensor_parallel_across_nodes_holds_every_gpu_and_pays_the_network_per_all_reduce():
    """SGLang's early two-node recipe (--tp 16 --nnodes 2): one replica over 16 GPUs has the weights,
    bandwidth and KV room of all of them; its floor is one node's plus an inter-node hop per all-reduce."""
    from harness.perf.overheads import engine_overhead
    from harness.serving.deployment import ALLREDUCES_PER_LAYER, INTER_NODE_ALLREDUCE_US
    two = deployment(cluster(2), SC, ENGINES, tensor_parallel=16)
    one = deployment(cluster(1, gpu="H200", memory=141, bw=4800), SC, ENGINES, tensor_parallel=8)
    st = two.decode
    assert st.placement == "gpu" and st.devices.tensor_parallel == 16 and st.replicas == 1
    assert two.decode_nodes == 2 and two.gpus_per_node == 8
    node = replace(st.devices, tensor_parallel=8)
    inter = DSV3.n_layers * ALLREDUCES_PER_LAYER * INTER_NODE_ALLREDUCE_US * 1e-6
    assert st.overhead_s == pytest.approx(engine_overhead(DSV3, "gpu", node, st.engine) + inter)
    assert any("placeholder" in n for n in st.notes)
    # sixteen H200s leave more KV room than eight (the weights split 16 ways)
    h200s = deployment(cluster(2, gpu="H200", memory=141, bw=4800), SC, ENGINES, tensor_parallel=16).decode
    assert h200s.kv_capacity_tokens > 1.5 * one.decode.kv_capacity_tokens
    with pytest.raises(HarnessError, match="multiple of the 8 GPUs"):
        deployment(cluster(2), SC, ENGINES, tensor_parallel=12)
    # without a tensor-parallel size spanning the nodes, a cluster runs expert parallel
    assert deployment(cluster(2), SC, ENGINES).layout == "expert-parallel"


@pytest.mark.parametrize("par, tp, ep", [("TP16", 16, False), ("TP8 PP2", 16, False), ("TP8", None, True),
                                         ("TP16 + DP-attention", None, True), ("", 16, False),
                                         ("EP16", None, True), ("DeepEP, 2 nodes", None, True)])
def test_a_two_node_row_runs_tensor_parallel_when_its_size_spans_the_nodes(par, tp, ep):
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "SGLang v0.4.3",
           "hardware": "2x8 H100 80GB", "parallelism": par, "input_len": "1024", "output_len": "1024",
           "concurrency": "64", "output_tok_s_aggregate": "500", "source_group": "t"}
    case = to_case(row)
    assert case.usable and (case.tensor_parallel, case.expert_parallel) == (tp, ep)


def test_rate_rows_run_open_loop_and_total_only_rows_score_their_output_share():
    from harness.calibration.serving_rows import CLIENT_PROMPTS, to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "vLLM 0.7.3",
           "hardware": "8x H200", "parallelism": "TP8", "input_len": "3000", "output_len": "1000",
           "concurrency": "", "request_rate": "4", "output_tok_s_aggregate": "500", "source_group": "t"}
    case = to_case(row)
    assert (case.rate, case.concurrency, case.requests) == (4.0, None, CLIENT_PROMPTS)
    burst = to_case(row | {"request_rate": "inf"})
    assert burst.rate == float("inf") and burst.concurrency is None
    closed = to_case(row | {"request_rate": "inf", "concurrency": "64"})
    assert (closed.rate, closed.concurrency) == (None, 64)
    total = to_case(row | {"output_tok_s_aggregate": "", "total_tok_s": "2000"})
    assert total.output_throughput == pytest.approx(2000 * 1000 / 4000)
    assert to_case(row | {"request_rate": "n/a"}).why_not == "no concurrency or request rate stated"


def test_amd_gpus_pay_rocm_floors_and_say_so():
    from harness.perf.devices import devices_for
    from harness.perf.overheads import engine_overhead
    mi = Machine(name="8x MI300X", source="test", gpus=(GpuSpec(model="AMD MI300X", count=8, memory_gb=192,
                                                                bandwidth_gbs=5300, bf16_tflops=1307.4),))
    nv = replace(mi, gpus=(replace(mi.gpus[0], model="H200"),))
    vllm = ENGINES.resolve("vllm")
    slow = replace(vllm, rocm_floor_scale=2.0)
    dev_mi, dev_nv = devices_for(mi, slow, "gpu"), devices_for(nv, slow, "gpu")
    assert dev_mi.rocm and not dev_nv.rocm
    assert any("ROCm" in n for n in dev_mi.notes) and not any("ROCm" in n for n in dev_nv.notes)
    base = engine_overhead(DSV3, "gpu", dev_mi, replace(vllm, rocm_floor_scale=1.0))
    assert engine_overhead(DSV3, "gpu", dev_mi, slow) == pytest.approx(2 * base)
    assert engine_overhead(DSV3, "gpu", dev_nv, slow) == engine_overhead(DSV3, "gpu", dev_nv, vllm)


def test_prefill_work_beyond_flops_is_shared_by_a_replicas_gpus():
    st = deployment(cluster(1, gpu="H200", memory=141, bw=4800), SC, ENGINES, tensor_parallel=8).decode
    extra = replace(st, prefill_token_s=80e-6)
    added = extra.time(0, 0.0, 4096, 2048) - st.time(0, 0.0, 4096, 2048)
    assert added == pytest.approx(4096 * 80e-6 / 8 * st.step_scale)
    assert extra.time(16, 3000) == st.time(16, 3000)  # decode-only steps do not pay it
    # a model with a quarter of DeepSeek-V3's activations (layers x hidden) pays a quarter of it
    from harness.perf.batch import activation_scale
    small = replace(DSV3, n_layers=61, hidden_size=7168 // 4)
    assert activation_scale(DSV3) == 1.0 and activation_scale(small) == pytest.approx(0.25)


def test_a_shared_prefix_row_runs_with_its_cache_hits():
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": "SGLang 0.4.2",
           "hardware": "8x H200", "parallelism": "TP8",
           "input_len": "~3200 (generated-shared-prefix: 2000-token shared system prompt + 1200 question)",
           "output_len": "800", "concurrency": "64", "output_tok_s_aggregate": "800", "source_group": "t"}
    assert to_case(row).prefix_hit == pytest.approx(2000 / 3200)
    assert to_case(row | {"input_len": "3200"}).prefix_hit == 0.0


@pytest.mark.parametrize("engine, date, era", [
    ("SGLang", "2025-02-20", "early-2025"), ("SGLang (Feb 2025)", "", "early-2025"), ("SGLang", "2025-04", "early-2025"),
    ("SGLang", "2025-05-05", "current"), ("SGLang v0.4.6", "2025-02", "current"), ("SGLang v0.4.3", "2025-09", "early-2025"),
    ("vLLM", "2025-03 (blog 2025-03-18)", "early-2025"), ("vLLM", "2025-04", "current"), ("vLLM", "2025", "current"),
    ("TensorRT-LLM", "2025-01", "current")])
def test_a_row_without_a_version_takes_the_era_of_its_date(engine, date, era):
    """A version decides the era; without one, a row measured in or before the month the first current
    build came out (SGLang 0.4.5, April 2025; vLLM 0.8.0, March 2025) ran an early build."""
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": "FP8", "engine_and_version": engine, "date": date,
           "hardware": "8x H200", "parallelism": "TP8", "input_len": "1024", "output_len": "1024",
           "concurrency": "64", "output_tok_s_aggregate": "500", "source_group": "t"}
    case = to_case(row)
    assert case.usable and case.era == era


def test_validate_serving_scores_a_labs_own_rows_out_of_sample(tmp_path):
    """Rows the fit never read (a lab's own, or published ones outside the calibration set) are scored
    with the shipped constants and reported out of sample; early-2025 shapes all run."""
    import csv as _csv

    from harness.calibration.serving_rows import serving_path
    header = next(_csv.reader(serving_path().open(encoding="utf-8")))
    base = {k: "" for k in header} | {"model": "DeepSeek-R1 (671B MoE)", "quant": "FP8 (native)",
                                      "source_group": "lab", "date": "2025-02", "confidence": "high"}
    rows = [base | {"id": "lab-h200-sglang", "engine_and_version": "SGLang 0.4.2", "hardware": "8x NVIDIA H200 141GB",
                    "parallelism": "TP8", "input_len": "3200", "output_len": "800", "concurrency": "64",
                    "output_tok_s_aggregate": "650", "per_user_latency_ms": "TPOT median 80",
                    "ttft_ms": "median 9000"},
            base | {"id": "lab-h20-trt", "engine_and_version": "TensorRT-LLM", "hardware": "8x H20 96GB",
                    "parallelism": "TP8", "input_len": "256", "output_len": "256", "concurrency": "1024",
                    "output_tok_s_aggregate": "1500"},
            base | {"id": "lab-h100-2node", "engine_and_version": "vLLM", "hardware": "16x H100 80GB (2x8)",
                    "parallelism": "", "input_len": "1000", "output_len": "1000", "concurrency": "32",
                    "output_tok_s_aggregate": "600"}]
    path = tmp_path / "lab.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = _csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    res = CliRunner().invoke(app, ["validate", "--serving", "--rows", str(path), "--json"])
    assert res.exit_code == 0, res.output[-500:]
    out = json.loads(res.output)
    assert out["count"] == 3 and not out["skipped"] and out["in_sample"] is None
    assert out["out_of_sample"]["rows"] == 3 and not any(r["in_fit"] for r in out["rows"])
    assert {r["era"] for r in out["rows"]} == {"early-2025", "current"}  # vLLM by its date, TensorRT-LLM has no era
    text = CliRunner().invoke(app, ["validate", "--serving", "--rows", str(path)]).output
    assert "out of sample (rows the fit never read)" in " ".join(text.split())


@pytest.mark.parametrize("quant, want", [("FP8 (native)", "fp8"), ("W4A16 (AWQ)", "int4"), ("INT8 (W8A8)", "int8"),
                                         ("FP4", "nvfp4"), ("MXFP4", "mxfp4"), ("FP8 weights, BF16 attention", "fp8")])
def test_quant_cells_as_people_write_them(quant, want):
    from harness.calibration.serving_rows import to_case
    row = {"id": "x", "model": "DeepSeek-R1", "quant": quant, "engine_and_version": "vLLM v0.7.3",
           "hardware": "8x H200", "parallelism": "TP8", "input_len": "1024", "output_len": "1024",
           "concurrency": "16", "output_tok_s_aggregate": "300", "source_group": "t"}
    case = to_case(row)
    assert case.usable and case.quant == want


def _toy_step(n_decode: int, ctx: float, prefill: int = 0, prefill_ctx: float = 0.0) -> float:
    """A step of 10 ms plus 1 ms per decode and 0.1 ms per prompt token."""
    return 0.010 + 0.001 * n_decode + 0.0001 * prefill


def test_ranks_step_together_a_prompt_on_one_holds_up_the_others():
    cfg = replace(scheduler_for("sglang", 141), token_budget=1000)
    # two clients on two ranks: the second's 2000-token prompt arrives while the first decodes
    load = Load(input_len=2000, output_len=200, rate=0.5, requests=8, seed=3)
    alone = serving_metrics(simulate(_toy_step, load, cfg, 10 ** 6))
    together = serving_metrics(simulate(_toy_step, load, cfg, 10 ** 6, ranks=2))
    apart = serving_metrics(simulate(_toy_step, replace(load, rate=0.25, requests=4), cfg, 10 ** 6))
    # one rank's own prompts stall its decode; in lockstep the other rank's prompts lengthen its steps
    # as well (but it still decodes in them), so two ranks in step sit between two independent ranks
    # and one rank taking every prompt
    assert apart["mean_tpot_ms"] * 1.03 < together["mean_tpot_ms"] < alone["mean_tpot_ms"] / 1.1
    assert together["completed"] == alone["completed"] == 8
    # tokens are conserved and every request finishes on its own rank's schedule
    assert together["total_output_tokens"] == 8 * 200


def test_one_rank_in_lockstep_is_the_plain_simulation():
    load = Load(input_len=700, output_len=90, concurrency=6, requests=30, len_ratio=0.5, seed=4)
    a = serving_metrics(simulate(_toy_step, load, scheduler_for("sglang", 141), 10 ** 6))
    b = serving_metrics(simulate(_toy_step, load, scheduler_for("sglang", 141), 10 ** 6, ranks=1))
    assert a == b


def test_lockstep_fast_forward_gives_the_same_run_as_single_steps():
    load = Load(input_len=300, output_len=400, concurrency=12, requests=48, len_ratio=0.3, seed=5)
    cfg = scheduler_for("sglang", 141)
    fast = serving_metrics(simulate(_toy_step, load, cfg, 10 ** 6, ranks=4))
    slow = serving_metrics(simulate(_toy_step, load, cfg, 10 ** 6, ranks=4, fast_forward=False))
    for key in ("duration", "median_tpot_ms", "p99_ttft_ms", "output_throughput"):
        assert fast[key] == pytest.approx(slow[key], rel=1e-9)


def test_an_expert_parallel_group_is_simulated_in_lockstep():
    from harness.serving.point import MAX_SIMULATED_RUNNING, simulated_ranks
    node = ep_step_model(cluster(1, "H200", 141, 4800), SC, SGLANG)
    assert simulated_ranks(node) == 8
    assert simulated_ranks(ep_step_model(cluster(18), SC, SGLANG)) == 16  # 144 ranks: groups of 16
    assert simulated_ranks(node, per_rank_running=MAX_SIMULATED_RUNNING) == 1
    tp = deployment(cluster(1, "H200", 141, 4800), SC, ENGINES).decode
    assert simulated_ranks(tp) == 1


def test_vllm_before_0_7_1_caches_every_heads_keys_and_values():
    """vLLM 0.7.0 ran DeepSeek's MLA as multi-head attention. Neural Magic's post on v0.7.1 gives the
    8x H200 token capacity as 54,560 before and 512,000 after (x9.4): the ratio of the two caches is
    the model's, whatever the memory reserves."""
    from harness.calibration.fit_serving import case_step
    from harness.calibration.fitfile import raw_engines
    from harness.calibration.serving_rows import load_serving_cases
    from harness.serving.eras import model_as_run, runs_mla
    assert not runs_mla("vllm", "0.7.0") and runs_mla("vllm", "0.7.1") and runs_mla("vllm", None)
    assert runs_mla("sglang", "0.4.1")
    mha = DSV3.as_mha()
    assert mha.kv_bytes_per_token(2.0) == 61 * 128 * (192 + 128) * 2.0
    assert model_as_run(DSV3, "sglang", "0.4.1") is DSV3 and mha.as_mha() is mha
    case = next(c for c in load_serving_cases() if c.id == "EARLY-VLLM12568-H200-v070V1-rr4")
    old = case_step(case, raw_engines()).decode.kv_capacity_tokens
    new = case_step(replace(case, engine_version="0.7.1"), raw_engines()).decode.kv_capacity_tokens
    assert new / old == pytest.approx(512_000 / 54_560, rel=0.15)
