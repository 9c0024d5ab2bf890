"""``moebench compare / check / import / export`` through the real exit path, on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pg import pg_server, pg_url  # noqa: F401  (fixtures)

from harness.cli import main
from harness.app.check import run_check
from harness.store import open_store
from harness.errors import HarnessError

DATA = Path(__file__).parent / "data" / "results"
RUNS = DATA / "runs"
GOLDEN = DATA / "golden"


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run ``moebench ARGS`` in-process through ``harness.cli.main``: (exit code, out, err)."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code or 0, out, err


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")  # a bare path is a SQLite file
    return request.getfixturevalue("pg_url")


@pytest.fixture()
def loaded(store_url: str, capsys: pytest.CaptureFixture) -> str:
    """A store holding the golden runs: two with bios=A and two with bios=B (30 % slower)."""
    code, out, _ = cli(capsys, "import", RUNS, "--store", store_url)
    assert code == 0 and out.startswith("imported 4 run(s), 0 already present, 2 file(s) skipped")
    return store_url


def test_thirty_percent_degradation_exits_1_and_names_the_metric(loaded, capsys):
    code, out, _ = cli(capsys, "compare", "bios=A", "bios=B", "--store", loaded)
    assert code == 1
    assert out.splitlines()[-1].startswith("REGRESSED 4: decode_tokens_per_s@deepseek-v3/fp8/cpu")
    assert "stream_triad (-29.5%)" in out
    assert out == (GOLDEN / "compare_bios_A_B.txt").read_text()


def test_identical_runs_exit_0(loaded, capsys):
    code, out, _ = cli(capsys, "compare", "a100", "a100", "--store", loaded)
    assert code == 0 and out.splitlines()[-1] == "no regression (9 unchanged)"


def test_same_bios_pooled_against_one_run_exits_0(loaded, capsys):
    code, out, _ = cli(capsys, "compare", "bios=A", RUNS / "bios-A" / "run-a2.json",
                       "--store", loaded)
    assert code == 0


def test_json_output(loaded, capsys):
    code, out, _ = cli(capsys, "compare", "bios=A", "bios=B,lab=rack3", "--json", "--store", loaded)
    report = json.loads(out)
    assert code == 1 and report["candidate"]["runs"] == ["b1" + "0" * 29 + "1", "b2" + "0" * 29 + "2"]
    triad = next(c for c in report["changes"] if c["metric"] == "stream_triad")
    assert triad["verdict"] == "regressed" and triad["method"] == "mann-whitney"
    assert triad["n_base"] == triad["n_cand"] == 12


def test_two_files_need_no_store(tmp_path, capsys):
    store = tmp_path / "never" / "created.sqlite"
    code, out, _ = cli(capsys, "compare", RUNS / "bios-A" / "run-a1.json",
                       RUNS / "bios-B" / "run-b1.json", "--store", store)
    assert code == 1 and "stream_triad" in out.splitlines()[-1]
    assert not store.parent.exists()


def test_bad_input_is_one_line_and_exit_2(loaded, capsys):
    for args in (["compare", "bios=Z", "bios=A"], ["compare", "nope.json", "bios=A"],
                 ["compare", "bios=A", "bios=B", "--threshold", "-3"],
                 ["export", "ffff", "--out", "x.json"]):
        code, _, err = cli(capsys, *args, "--store", loaded)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (args, err)


def test_broken_files_are_skipped_with_a_warning(store_url, capsys, caplog):
    code, out, _ = cli(capsys, "import", RUNS / "broken", "--store", store_url)
    assert code == 0 and out.startswith("imported 0 run(s), 0 already present, 2 file(s) skipped")
    # on the console these reach stderr through logging (see the subprocess test below)
    assert "schema_version 99 is newer" in caplog.text and "not valid JSON" in caplog.text


def test_export_round_trips(loaded, tmp_path, capsys):
    code, out, _ = cli(capsys, "export", "b200", "--out", tmp_path / "b2.json", "--store", loaded)
    assert code == 0
    assert (json.loads((tmp_path / "b2.json").read_text())
            == json.loads((RUNS / "bios-B" / "run-b2.json").read_text()))


# --- check: run, store, compare ----------------------------------------------------------------

def _fake_run(scale: float):
    """A stand-in for harness.app.run.run_benchmark that replays a golden result, rescaled."""
    calls = []

    def run(*, quick: bool, tags: dict, out_dir: object) -> dict:
        doc = json.loads((RUNS / "bios-A" / "run-a1.json").read_text())
        doc.update(run_id=f"c{len(calls):031d}", tags=tags)
        for probe in doc["probes"].values():
            probe["samples"] = [v * scale for v in probe["samples"]]
        calls.append(quick)
        return doc
    run.calls = calls
    return run


def test_check_stores_the_run_and_passes_when_unchanged(loaded):
    run = _fake_run(1.0)
    run_id, comparison = run_check("bios=A", url=loaded, tags={"bios": "A"}, run=run)
    assert comparison.regressed == [] and run.calls == [True]
    with open_store(loaded) as store:
        assert store.has_run(run_id) and len(store.runs({"bios": "A"})) == 3
    assert comparison.base_runs == ("a1" + "0" * 29 + "1", "a2" + "0" * 29 + "2")  # not itself


def test_check_flags_a_regression(loaded):
    _, comparison = run_check("bios=A", url=loaded, run=_fake_run(0.7))
    assert {c.metric for c in comparison.regressed} == {"stream_copy", "stream_triad", "gemm_fp32"}


def test_check_resolves_the_baseline_before_running(loaded):
    run = _fake_run(1.0)
    with pytest.raises(HarnessError, match="no run matches"):
        run_check("bios=missing", url=loaded, run=run)
    assert run.calls == []


def test_check_command_exit_code(loaded, capsys, monkeypatch):
    monkeypatch.setattr("harness.app.check._default_runner", lambda: _fake_run(0.7))
    code, out, _ = cli(capsys, "check", "--baseline", "bios=A", "--quick", "--tag", "bios=C",
                       "--store", loaded)
    assert code == 1 and out.startswith("stored run c0000") and "REGRESSED" in out


# --- the installed console script, once ------------------------------------------------------

def test_console_script_exit_codes(tmp_path):
    env = dict(os.environ, MOEBENCH_STORE=str(tmp_path / "s.sqlite"))
    base = [sys.executable, "-c", "from harness.cli import main; main()"]
    imported = subprocess.run([*base, "import", str(RUNS)], env=env, check=True,
                              capture_output=True, text=True)
    assert "not valid JSON" in imported.stderr and "schema_version 99" in imported.stderr
    bad = subprocess.run([*base, "compare", "bios=A", "bios=B"], env=env, capture_output=True,
                         text=True)
    same = subprocess.run([*base, "compare", "bios=A", "bios=A"], env=env, capture_output=True,
                          text=True)
    assert (bad.returncode, same.returncode) == (1, 0)
    assert "REGRESSED" in bad.stdout and "stream_triad" in bad.stdout


def test_comparing_across_hardware_says_so(loaded, tmp_path, capsys):
    doc = json.loads((RUNS / "bios-B" / "run-b1.json").read_text())
    doc["machine"]["fingerprint"] = "0123456789abcdef"  # e.g. after a DIMM swap
    (tmp_path / "swapped.json").write_text(json.dumps(doc))
    _, out, _ = cli(capsys, "compare", "a100", tmp_path / "swapped.json", "--store", loaded)
    assert "note: the sides ran on different hardware (fingerprint 8647d9de vs 01234567)" in out
    _, out, _ = cli(capsys, "compare", "a100", "bios=B", "--store", loaded)
    assert "note:" not in out


# --- a missing store is refused by readers, created by check -----------------------------------

def test_compare_by_run_id_refuses_a_store_that_does_not_exist(tmp_path, capsys):
    code, _, err = cli(capsys, "compare", "abcd1234", "dcba4321", "--store", tmp_path / "nope.sqlite")
    assert code == 2 and err.startswith("error: no store at")
    assert list(tmp_path.iterdir()) == []


def test_check_opens_the_store_and_checks_out_before_running(tmp_path):
    run = _fake_run(1.0)
    base = str(RUNS / "bios-A" / "run-a1.json")
    with pytest.raises(HarnessError, match="no database driver"):
        run_check(base, url="foo://bar", out_dir=tmp_path / "out", run=run)
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(HarnessError, match="is a file"):
        run_check(base, url=str(tmp_path / "s.sqlite"), out_dir=tmp_path / "afile", run=run)
    assert run.calls == [] and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_check_with_a_run_id_baseline_needs_an_existing_store(tmp_path):
    run = _fake_run(1.0)
    with pytest.raises(HarnessError, match="no store at"):
        run_check("abcd1234", url=str(tmp_path / "s.sqlite"), run=run)
    assert run.calls == [] and list(tmp_path.iterdir()) == []


def test_check_creates_a_new_store_for_a_file_baseline(tmp_path):
    run = _fake_run(1.0)
    run_id, comparison = run_check(str(RUNS / "bios-A" / "run-a1.json"),
                                   url=str(tmp_path / "s.sqlite"), run=run)
    assert run.calls == [True] and comparison.regressed == []
    with open_store(str(tmp_path / "s.sqlite"), create=False) as store:
        assert store.has_run(run_id)
