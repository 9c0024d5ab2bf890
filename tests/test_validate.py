"""Prediction accuracy against the published calibration rows (regression guard, not a target).

The targets (MAPE <= 15%, all rows within x1.5) are tracked by bench/prediction_accuracy.py; these
bounds catch a change that makes the model clearly worse.
"""

from __future__ import annotations

import pytest

from harness.api import predict_on
from harness.calibration import load_cases, parse_context, parse_quant_column
from harness.validate import validate


@pytest.fixture(scope="module")
def result():
    return validate()


def test_every_usable_row_is_scored(result):
    assert result["count"] >= 35
    skipped = {s["id"] for s in result["skipped"]}
    assert {"ds_day6_h800_decode", "sglang_96xh100_ep"} <= skipped  # aggregate, not batch-1


def test_model_beats_rule_of_thumb_by_far(result):
    assert result["mape_pct"] < 22.0
    assert result["median_ape_pct"] < 12.0
    assert result["rule_of_thumb_mape_pct"] > 2 * result["mape_pct"]
    # outside: unsloth_r1_iq1s_2xh100 (no stated condition explains it) and spark_vllm_gptoss120b
    # (above the GB10 bandwidth roofline for its checkpoint; its sibling row is 1.78x slower)
    assert result["within_1_5x"] >= result["count"] - 2


@pytest.mark.parametrize("quant, published", [("fp8", 21.0), ("int4", 28.0)])
def test_seed_box_from_catalog_spec(quant, published):
    tps = predict_on("epyc9355-rtx5090d", quant=quant, placement="hybrid", context=0)["decode_tokens_per_s"]
    # a regression guard, not the 15% target: the published FP8/INT4 pair (21/28) needs a CPU
    # streaming at ~100% of theoretical, so one bandwidth-bound KTransformers profile leaves FP8 ~-24%
    assert published * 0.72 <= tps <= published * 1.15


def test_row_parsing():
    assert parse_context("tg32 @ depth 32768") == 32768
    assert parse_context("10K context") == 10000
    assert parse_context("prompt 7678 (8K), 300 output") == 7678
    assert parse_quant_column({"quant": "Q4_K_M", "bits_per_weight_if_stated": ""}) == "q4_k_m"
    assert parse_quant_column({"quant": "custom (~4.4 bpw est.)", "bits_per_weight_if_stated": ""}) == "4.4bpw"
    assert parse_quant_column({"quant": "MXFP4 (MoE) GGUF, 59.02 GiB", "bits_per_weight_if_stated": "4.34"}) == "4.34bpw"
    assert parse_quant_column({"quant": "FP8", "bits_per_weight_if_stated": "8"}) == "fp8"  # plain format: its layout
    assert parse_quant_column({"quant": "Q6_K (unsloth 128K, ~193GB)", "bits_per_weight_if_stated": "6.56"}) == "6.56bpw"
    cases = {c.id: c for c in load_cases()}
    assert cases["ik_7773x_r1_q4km_mla"].machine.speed_mts == 3200  # DDR4 default, stated as assumed
    assert not cases["kt_kimik2_q4km_2s"].usable


def test_multi_node_serving_row_is_checked_at_its_concurrency(result):
    rows = {a["id"]: a for a in result["aggregate_rows"]}
    day6 = rows["ds_day6_h800_decode"]
    assert day6["nodes"] == 18
    # a sanity bound (same regime as DeepSeek's production figures), not an accuracy target: the
    # production system runs at an SLA, not at the hardware's limit, so the model may be faster
    assert 0.5 < day6["predicted_per_user_tok_s"] / day6["measured_per_user_tok_s"] < 2.0
    assert 0.5 < day6["predicted_per_node_tok_s"] / day6["measured_per_node_tok_s"] < 2.0
