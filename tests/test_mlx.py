"""MLX, Apple's engine: a profile whose GPU terms are llama.cpp's Metal fit until rows of its own
exist (marked placeholders, and said so), mlx_lm.server's continuous batching, and a clear refusal
anywhere but an Apple GPU."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from harness.app.serve import serve_on
from harness.calibration.fitfile import default_engines
from harness.cli import app
from harness.serving.scheduler import scheduler_for


def test_mlx_takes_llama_cpps_metal_terms_as_marked_placeholders():
    eng = default_engines()
    mlx, kin = eng.resolve("mlx-lm"), eng["llama.cpp"]
    assert mlx.name == "mlx" and mlx.apple_only and mlx.multi_gpu == "layer"
    for f in ("gpu_bw_frac", "gpu_layer_us", "moe_layer_us", "gpu_flops_frac"):
        assert getattr(mlx, f) == getattr(kin, f) and f in mlx.placeholders


def test_predict_with_mlx_on_a_mac_says_what_it_leans_on():
    res = CliRunner().invoke(app, ["predict", "--machine", "apple-m3-ultra", "--engine", "mlx", "-q", "q4_k_m",
                                   "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["placement"] == "gpu" and out["engine"] == "mlx" and out["decode_tokens_per_s"] > 0
    assert any("placeholder values in the mlx profile" in a for a in out["assumptions"])


def test_mlx_anywhere_but_an_apple_gpu_is_one_line_and_exit_2():
    for args in (["--machine", "8x-h200"], ["--machine", "apple-m3-ultra", "--placement", "cpu"]):
        res = CliRunner().invoke(app, ["predict", *args, "--engine", "mlx", "-q", "q4_k_m"])
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output


def test_mlx_serves_with_mlx_lm_servers_batching():
    cfg = scheduler_for("mlx", None)
    assert (cfg.max_running, cfg.token_budget, cfg.prefill_first) == (32, 2048, True)
    out = serve_on("apple-m3-ultra", engine="mlx", quant="q4_k_m", concurrency=4, input_len=256, output_len=32,
                   requests=8)
    assert out["completed"] == 8 and "mlx_lm.server" in " ".join(out["assumptions"])
