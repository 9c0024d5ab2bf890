"""The CLI through typer's CliRunner (in-process), with the probe replaced by a captured report."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import harness.app.run
from harness.cli import app

runner = CliRunner()


@pytest.fixture
def no_hardware(monkeypatch, fake_probe_fn):
    monkeypatch.setattr(harness.app.run, "default_probe", fake_probe_fn)


def test_run_writes_result_and_report(tmp_path, no_hardware):
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--quick", "--out", str(out), "--tag", "bios=A", "--no-store"])
    assert res.exit_code == 0, res.output
    assert "980.0 GB/s" in res.output  # measured triad shown
    assert "deepseek-v3" in res.output
    data = json.loads((out / "result.json").read_text())
    for key in ("schema_version", "run_id", "started_at", "harness_version", "tags", "machine", "probes", "predictions"):
        assert key in data
    assert data["tags"] == {"bios": "A"}
    placements = {(p["inputs"]["quant"], p["placement"]) for p in data["predictions"]}
    assert {("fp8", "cpu"), ("q4_k_m", "cpu"), ("fp8", "hybrid"), ("q4_k_m", "hybrid")} <= placements
    for p in data["predictions"]:
        assert p["decode_tokens_per_s"] > 0 and p["assumptions"]
    html = (out / "report.html").read_text()
    assert "<html" in html and "http://" not in html and "https://" not in html
    assert not list(out.glob(".*.tmp"))


def test_run_json_output(tmp_path, no_hardware):
    res = runner.invoke(app, ["run", "--out", str(tmp_path), "--json", "--no-store"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["schema_version"] == 1


@pytest.mark.parametrize("args, fragment", [
    (["run", "--tag", "novalue"], "key=value"),
    (["run", "--model", "no-such-model"], "no-such-model"),
    (["run", "--quant", "q9_z"], "q9_z"),
    (["predict", "--machine", "epyc9355-rtx5090d", "--placement", "warp"], "placement"),
    (["predict", "--machine", "epyc9355-rtx5090d", "--engine", "turbo"], "engine"),
    (["predict", "--machine", "epyc9355-rtx5090d", "--context", "-5"], "context"),
    (["predict", "--machine", "epyc9355-rtx5090d", "--batch", "0"], "batch"),
    (["predict", "--machine", "missing.toml"], "missing.toml"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, no_hardware, args, fragment):
    res = runner.invoke(app, args + (["--out", str(tmp_path / "o")] if args[0] == "run" else []))
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_predict_json_has_contract_keys():
    res = runner.invoke(app, ["predict", "--machine", "epyc9355-rtx5090d", "--quant", "int4", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    for key in ("decode_tokens_per_s", "prefill_tokens_per_s", "ttft_s", "fits", "bottleneck", "memory", "assumptions"):
        assert key in data
    assert data["placement"] == "hybrid"


def test_predict_backend_reaches_the_model():
    """Vulkan without a BF16 expert path slows BF16 experts on the GPU, and says so."""
    base = ["predict", "--machine", "ryzen-ai-max-395", "--model", "qwen3-30b-a3b", "--quant", "bf16",
            "--placement", "gpu", "--json"]
    auto = json.loads(runner.invoke(app, base).output)
    vulkan = json.loads(runner.invoke(app, base + ["--backend", "vulkan"]).output)
    assert vulkan["inputs"]["backend"] == "vulkan"
    assert vulkan["decode_tokens_per_s"] < 0.5 * auto["decode_tokens_per_s"]
    assert any("vulkan backend" in a for a in vulkan["assumptions"])
    assert not any("vulkan backend" in a for a in auto["assumptions"])


def test_machines_table_never_cuts_an_id():
    """The id is what --machine takes: the human table must show it whole, even at 80 columns."""
    ids = {m["id"] for m in json.loads(runner.invoke(app, ["machines", "--json"]).output)}
    res = runner.invoke(app, ["machines"], env={"COLUMNS": "80"})
    assert res.exit_code == 0
    assert all(i in res.output for i in ids), res.output


def test_machines_lists_catalog():
    res = runner.invoke(app, ["machines", "--json"])
    assert res.exit_code == 0
    assert "epyc9355-rtx5090d" in {m["id"] for m in json.loads(res.output)}


def test_every_command_has_help():
    for name in ("run", "probe", "predict", "machines"):
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output
