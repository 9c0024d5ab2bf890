"""The installed ``moebench`` command, end to end on this machine's real hardware (quick probe),
and the docs kept honest: every command has help text and appears in the README."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _moebench() -> list[str]:
    exe = shutil.which("moebench")
    return [exe] if exe else [sys.executable, "-c", "from harness.cli import main; main()"]


def test_installed_command_runs_quick_end_to_end(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([*_moebench(), "run", "--quick", "--out", str(out), "--no-store"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "measured STREAM triad" in proc.stdout and "GB/s" in proc.stdout
    data = json.loads((out / "result.json").read_text())
    assert data["probes"]["stream_triad"]["best"] > 0
    assert all(p["decode_tokens_per_s"] > 0 for p in data["predictions"])
    assert (out / "report.html").stat().st_size > 1000


def test_bad_input_through_the_installed_command():
    proc = subprocess.run([*_moebench(), "predict", "--machine", "epyc9355-rtx5090d", "--quant", "q9"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


def _commands() -> list[str]:
    from harness.cli import app
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_and_is_in_the_readme(name):
    from typer.testing import CliRunner
    from harness.cli import app

    res = CliRunner().invoke(app, [name, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"`moebench {re.escape(name)}\b", readme), f"README does not mention moebench {name}"


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install . && moebench run" in readme
    assert "pip install -e '.[test]' && pytest" in readme and "pip install -e '.[test]' && pytest" in ci
