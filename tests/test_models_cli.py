"""``moebench models``: catalog listing, one model file, JSON output, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.workload import catalog_ids

runner = CliRunner()


def test_models_json_lists_the_catalog() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == catalog_ids()
    ds = rows[0]
    assert ds["total_params"] == sum(v for k, v in ds["params"].items() if k != "mtp")
    assert {"id", "family", "total_params", "active_params", "kv_bytes_per_token",
            "params"} <= set(ds)
    assert ds["kv_bytes_per_token"] == 61 * 576 * 2


def test_models_table_and_breakdown() -> None:
    result = runner.invoke(app, ["models", "--model", "deepseek-v3", "--quant", "q4_k_m"])
    assert result.exit_code == 0, result.output
    assert "deepseek-v3" in result.stdout and "routed_experts" in result.stdout


def test_models_with_quant_json() -> None:
    result = runner.invoke(app, ["models", "-m", "gpt-oss-20b", "-q", "mxfp4", "--json"])
    row = json.loads(result.stdout)[0]
    assert row["quant"] == "mxfp4"
    assert row["weight_bytes_total"] == sum(row["weight_bytes"].values())


def test_models_config_path(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny" / "config.json"
    cfg.parent.mkdir()
    cfg.write_text(json.dumps(dict(
        model_type="mixtral", hidden_size=64, num_hidden_layers=2, num_local_experts=4,
        num_experts_per_tok=2, intermediate_size=128, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=100)))
    result = runner.invoke(app, ["models", "--model", str(cfg), "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert (row["id"], row["family"], row["routed_experts"]) == ("tiny", "mixtral", 4)


def test_models_bad_input_is_one_line_exit_2(capsys) -> None:
    from harness.cli import main

    try:
        main(["models", "--model", "no-such-model"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown model") and err.count("\n") == 1
    assert "deepseek-v3" in err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "5"])
def test_models_kv_bytes_range_checked_like_predict(value: str) -> None:
    result = runner.invoke(app, ["models", "--model", "deepseek-v3", "--kv-bytes", value])
    assert result.exit_code == 2
    assert "--kv-bytes must be between 0.25 and 4" in result.stderr
    assert runner.invoke(app, ["models", "--model", "deepseek-v3", "--kv-bytes", "1",
                               "--json"]).exit_code == 0


def test_summarize_model_checks_kv_bytes_too() -> None:
    from harness.errors import HarnessError
    from harness.workload import load_model
    from harness.workload.summary import summarize_model

    with pytest.raises(HarnessError, match="kv-bytes"):
        summarize_model(load_model("deepseek-v3"), kv_dtype_bytes=0)
