"""`moebench plan`: the search on a fake simulator (pure), then end to end on the real one — every
option it says meets the target is re-run with `moebench serve` and must meet it."""

from __future__ import annotations

import json
import math
import shlex

import pytest
from typer.testing import CliRunner

from harness.app.plan import layouts, plan_for
from harness.cli import app
from harness.documents.machines import load_machine
from harness.errors import HarnessError
from harness.hardware.prices import convert
from harness.planning.search import CLUSTER, REPLICAS, Candidate, Target, assess, plan
from harness.report.plan import pareto, plan_html
from harness.serving.capacity import queue_ttft_limit_ms
from harness.workload import load_model

runner = CliRunner()


def fake_box(per_user_ms: float, base_ms: float = 20.0, ttft_ms: float = 500.0, slots: int = 64):
    """A box whose median TPOT grows linearly with its users: base + per_user × (users − 1)."""
    def evaluate(cand: Candidate, count: int, concurrency: int, requests: int | None) -> dict:
        tpot = base_ms + per_user_ms * (concurrency - 1) / (count if cand.kind == CLUSTER else 1)
        return {"median_tpot_ms": tpot, "median_ttft_ms": ttft_ms, "p99_ttft_ms": ttft_ms, "concurrency": concurrency,
                "max_running": slots, "replicas": 1, "output_throughput": concurrency * 1000 / tpot}
    return evaluate


def cand(name: str = "box", price: float | None = 100.0, kind: str = REPLICAS, counts=tuple(range(1, 33))) -> Candidate:
    return Candidate(machine=name, machine_name=name, layout="L", engine="e", quant="fp8", kind=kind, counts=counts,
                     unit_price=price, power_kw=1.0, serve_args=("--quant", "fp8"))


def test_fewest_boxes_is_the_smallest_count_that_meets_the_target():
    # 50 users at >= 20 tok/s (TPOT <= 50 ms): 20 + 2 (c - 1) <= 50 -> c <= 16 -> 4 boxes (13 users each)
    target = Target(users=50, min_tps=20)
    out = assess(cand(), target, fake_box(2.0), "CNY")
    assert out["meets_target"] and out["count"] == 4 and out["per_box_concurrency"] == 13
    assert out["price"] == 400 and out["users_served"] >= 50
    assert out["users_served"] <= 4 * 16  # no box holds more than 16 at the target
    assert "--concurrency 13" in out["serve_command"]
    assert out["cost_per_million_output_tokens"] > 0


def test_too_slow_even_alone_and_at_the_most_boxes():
    alone = assess(cand(), Target(users=5, min_tps=100), fake_box(1.0, base_ms=20.0), "CNY")
    assert not alone["meets_target"] and "even for one user" in alone["reason"] and "50.0 tok/s" in alone["reason"]
    crowd = assess(cand(counts=(1, 2)), Target(users=100, min_tps=20), fake_box(2.0), "CNY")
    assert not crowd["meets_target"] and crowd["reason"].startswith("too slow: even 2 boxes (50 users each)")


def test_queued_users_and_slow_first_tokens_are_not_served():
    out = assess(cand(counts=(1,)), Target(users=10, min_tps=10), fake_box(0.1, slots=4), "CNY")
    assert not out["meets_target"] and "the rest queue" in out["reason"]
    slow = assess(cand(counts=(1,)), Target(users=2, min_tps=10, max_ttft_ms=100), fake_box(0.1), "CNY")
    assert not slow["meets_target"] and "first token" in slow["reason"]


def test_cluster_takes_all_users_on_count_nodes():
    out = assess(cand(kind=CLUSTER, counts=(2, 4, 8, 16)), Target(users=100, min_tps=20), fake_box(2.0, slots=512),
                 "CNY")
    # 20 + 2 * 99 / n <= 50 -> n >= 6.6 -> 8 nodes, all 100 users on the one deployment
    assert out["count"] == 8 and out["per_box_concurrency"] == 100 and "--nodes 8" in out["serve_command"]


def test_best_is_the_cheapest_meeting_within_budget_and_misses_are_explained():
    target = Target(users=50, min_tps=20, budget=450)
    res = plan([cand("cheap", 100.0), cand("dear", 1000.0), cand("free", None)], target, fake_box(2.0), "CNY")
    assert res["best"]["machine"] == "cheap" and res["best"]["price"] == 400
    by = {o["machine"]: o for o in res["options"]}
    assert by["dear"]["within_budget"] is False and "over budget" in by["dear"]["reason"]
    assert by["free"]["meets_target"] and by["free"]["price"] is None and "no price" in by["free"]["reason"]
    tight = plan([cand("cheap", 100.0)], Target(users=50, min_tps=20, budget=300), fake_box(2.0), "CNY")
    assert tight["best"] is None and "within the budget" in tight["closest_miss"]
    slow = plan([cand("cheap", 100.0)], Target(users=50, min_tps=60), fake_box(2.0), "CNY")
    assert slow["best"] is None and "closest" in slow["closest_miss"] and "too slow" in slow["closest_miss"]


def test_pareto_front_keeps_only_undominated_options():
    opts = [{"meets_target": True, "price": p, "users_served": u} for p, u in ((100, 10), (150, 8), (200, 30), (250, 30))]
    assert [(o["price"], o["users_served"]) for o in pareto(opts)] == [(100, 10), (200, 30)]


def test_layouts_follow_the_hardware():
    ds = load_model("deepseek-v3")
    h200 = {(x["layout"], x["engine"]) for x in layouts(load_machine("8x-h200"), ds, "fp8", 8)}
    assert ("TP8", "vllm") in h200 and ("EP8 + DP attention", "sglang") in h200
    assert not any("TP4" in lay for lay, _ in h200)  # 4 x 141 GB cannot hold 671B at FP8
    appliance = {(x["layout"], x["engine"]) for x in layouts(load_machine("epyc9355-rtx5090d"), ds, "fp8", 8)}
    assert appliance == {("hybrid (experts in RAM)", "ktransformers")}
    mi = {x["engine"] for x in layouts(load_machine("8x-mi300x"), ds, "fp8", 8)}
    assert "tensorrt-llm" not in mi  # NVIDIA only


@pytest.fixture(scope="module")
def small_plan():
    return plan_for(users=6, min_tps=12, machines=["epyc9355-rtx5090d", "8x-h200"], quants=["fp8", "q4_k_m"],
                    max_boxes=8, input_len=512, output_len=256)


def _serve(command: str) -> dict:
    args = shlex.split(command)
    assert args[:2] == ["moebench", "serve"]
    res = runner.invoke(app, [*args[1:], "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_every_option_that_meets_the_target_does_so_under_serve(small_plan):
    meets = [o for o in small_plan["options"] if o["meets_target"]]
    assert meets, small_plan["options"]
    for o in meets:
        point = _serve(o["serve_command"])
        assert point["median_tpot_ms"] <= 1000 / 12, o["serve_command"]
        assert point["concurrency"] == math.ceil(6 / o["count"]) or o["kind"] == CLUSTER
    priced = [o for o in meets if o["price"] is not None]
    assert small_plan["best"]["price"] == min(o["price"] for o in priced)


def test_prices_convert_at_the_stated_rate(small_plan):
    appliance = next(o for o in small_plan["options"] if o["machine"] == "epyc9355-rtx5090d")
    assert appliance["unit_price"] == 149000  # already CNY
    usd = plan_for(users=1, min_tps=5, machines=["apple-m3-ultra"], quants=["q4_k_m"], max_boxes=1, currency="USD",
                   input_len=128, output_len=16)
    assert usd["options"][0]["unit_price"] == 9499
    cny = plan_for(users=1, min_tps=5, machines=["apple-m3-ultra"], quants=["q4_k_m"], max_boxes=1,
                   input_len=128, output_len=16)
    assert cny["options"][0]["unit_price"] == pytest.approx(convert(9499, "USD", "CNY"))
    assert any("1 USD = 7.1 CNY" in a for a in cny["assumptions"])
    own = plan_for(users=1, min_tps=5, machines=["apple-m3-ultra"], quants=["q4_k_m"], max_boxes=1,
                   prices=["apple-m3-ultra=50000"], input_len=128, output_len=16)
    assert own["options"][0]["unit_price"] == 50000


def test_plan_cli_json_and_html(tmp_path):
    page = tmp_path / "plan.html"
    res = runner.invoke(app, ["plan", "--users", "2", "--min-tps", "10", "--machines", "epyc9355-rtx5090d",
                              "--quant", "q4_k_m", "--max-boxes", "4", "--input-len", "256", "--output-len", "64",
                              "--html", str(page), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("options", "best", "closest_miss", "assumptions"):
        assert key in out
    for o in out["options"]:
        for key in ("machine", "count", "layout", "engine", "quant", "users_served", "meets_target", "price",
                    "currency", "cost_per_million_output_tokens", "reason"):
            assert key in o
    text = page.read_text()
    assert "<svg" in text and "http://" not in text.replace("http://www.w3.org", "")


def test_html_is_escaped():
    o = {"machine": "x", "machine_name": "<script>alert(1)</script>", "layout": "L", "engine": "e", "quant": "q",
         "count": 1, "users_served": 3, "users_served_capped": False, "meets_target": True, "within_budget": None,
         "price": 10.0, "cost_per_million_output_tokens": 1.0, "power_kw": None, "tokens_per_s_per_user": 20.0,
         "median_ttft_ms": 100.0, "reason": "meets the target", "serve_command": "moebench serve"}
    page = plan_html({"users": 3, "model": "m", "min_tps": 10, "max_ttft_ms": None, "input_len": 1, "output_len": 2,
                      "budget": None, "currency": "CNY", "max_boxes": 1, "quants": ["q"], "options": [o], "best": o,
                      "closest_miss": None, "assumptions": ["<b>"]})
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page


def test_nothing_meets_is_an_answer_not_an_error():
    res = runner.invoke(app, ["plan", "--users", "2", "--min-tps", "5000", "--machines", "epyc9355-rtx5090d",
                              "--quant", "q4_k_m", "--max-boxes", "2", "--input-len", "64", "--output-len", "16", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["best"] is None and "too slow" in out["closest_miss"]


@pytest.mark.parametrize("args, words", [
    (["--users", "0", "--min-tps", "10"], "--users"),
    (["--users", "5", "--min-tps", "-1"], "--min-tps"),
    (["--users", "5", "--min-tps", "10", "--budget", "0"], "--budget"),
    (["--users", "5", "--min-tps", "10", "--currency", "XYZ"], "no exchange rate"),
    (["--users", "5", "--min-tps", "10", "--machines", "no-such-box"], "no-such-box"),
    (["--users", "5", "--min-tps", "10", "--machines", "8x-h200", "--price", "8x-h20=5"], "not one of the planned"),
    (["--users", "5", "--min-tps", "10", "--max-boxes", "0"], "--max-boxes"),
])
def test_bad_input_is_one_line_and_exit_2(args, words):
    res = runner.invoke(app, ["plan", *args])
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output


def test_a_cluster_too_small_to_hold_its_pools_grows_until_it_runs():
    """A disaggregated cluster whose one-node pools cannot hold the model runs from a larger count; the
    command names both pools."""
    base = fake_box(2.0, slots=512)

    def evaluate(c: Candidate, count: int, concurrency: int, requests: int | None) -> dict:
        if count < 8:
            raise HarnessError("does not fit expert-parallel over one node")
        return base(c, count, concurrency, requests)

    pd = Candidate(machine="n", machine_name="n", layout="PD", engine="sglang", quant="fp8", kind=CLUSTER,
                   counts=(2, 4, 8, 16), unit_price=10.0, prefill_share=0.25)
    out = assess(pd, Target(users=100, min_tps=20), evaluate, "CNY")
    assert out["meets_target"] and out["count"] == 8 and "--nodes 8 --disaggregate 2:6" in out["serve_command"]
    never = assess(pd, Target(users=100, min_tps=20), lambda *a: (_ for _ in ()).throw(HarnessError("no")), "CNY")
    assert not never["meets_target"] and never["reason"] == "does not run: no"


@pytest.mark.parametrize("command", ["predict", "serve"])
def test_a_repeated_machine_is_refused_not_silently_dropped(command):
    extra = ["-c", "1"] if command == "serve" else []
    res = runner.invoke(app, [command, "--machine", "8x-h200", "--machine", "8x-h20", *extra])
    assert res.exit_code == 2 and "given 2 times" in res.output


def test_the_seeds_scenario_is_consistent():
    """The founding scenario (20 users at >= 15 tok/s, 1,000 in / 1,000 out) for the appliance fleet:
    the price is count x the box's, every box carries its share at the target, and one box fewer would
    not — checked with `serve` itself, not against a number."""
    out = plan_for(users=20, min_tps=15, machines=["epyc9355-rtx5090d"], quants=["q4_k_m"], max_boxes=24)
    fleet = next(o for o in out["options"] if o["engine"] == "ktransformers")
    assert fleet["meets_target"] and fleet["price"] == fleet["count"] * 149000
    assert fleet["per_box_concurrency"] * fleet["count"] >= 20 and fleet["users_served"] >= 20
    assert _serve(fleet["serve_command"])["median_tpot_ms"] <= 1000 / 15
    if fleet["count"] > 1:
        fewer = fleet["serve_command"].replace(f"--concurrency {fleet['per_box_concurrency']}",
                                               f"--concurrency {math.ceil(20 / (fleet['count'] - 1))}")
        alone = _serve(fleet["serve_command"].replace(f"--concurrency {fleet['per_box_concurrency']}", "--concurrency 1"))
        point = _serve(fewer)
        assert point["median_tpot_ms"] > 1000 / 15 or point["median_ttft_ms"] > queue_ttft_limit_ms(
            alone["median_ttft_ms"])
