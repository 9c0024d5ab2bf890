"""Atomic output and Ctrl-C (issue 8): a failure or an interrupt while writing leaves the old file
(or none) and no temporary file; an interrupted run exits 130 with one line and writes nothing."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import harness.fsutil
import harness.app.run
from harness.cli import app
from harness.errors import HarnessError
from harness.fsutil import atomic_write_bytes, atomic_write_files, atomic_write_text

runner = CliRunner()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_write_replaces_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out" / "result.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert _files(tmp_path) == ["out/result.json"]


def test_new_file_gets_umask_mode_and_existing_keeps_its_own(tmp_path):
    old = os.umask(0o022)
    try:
        fresh = atomic_write_text(tmp_path / "report.html", "x")
        assert fresh.stat().st_mode & 0o777 == 0o644  # readable like any file the user writes
        kept = tmp_path / "private.json"
        kept.write_text("old")
        kept.chmod(0o600)
        atomic_write_text(kept, "new")
        assert kept.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def _raiser(exc: BaseException):
    def fail(*_: Any, **__: Any) -> None:
        raise exc
    return fail


@pytest.mark.parametrize("where", ["fsync", "replace"])
@pytest.mark.parametrize("exc, expected", [
    (OSError(errno.ENOSPC, "No space left on device"), HarnessError),
    (KeyboardInterrupt(), KeyboardInterrupt),
])
def test_failure_mid_write_keeps_old_content_and_no_temp(tmp_path, monkeypatch, where, exc, expected):
    target = tmp_path / "result.json"
    target.write_text("old complete content")
    monkeypatch.setattr(harness.fsutil.os, where, _raiser(exc))
    with pytest.raises(expected):
        atomic_write_bytes(target, b"x" * 1_000_000)
    monkeypatch.undo()
    assert target.read_text() == "old complete content"
    assert _files(tmp_path) == ["result.json"]


def test_failure_on_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(harness.fsutil.os, "fsync", _raiser(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(tmp_path / "report.html", "<html>")
    assert _files(tmp_path) == []


def test_several_files_are_written_all_or_none(tmp_path, monkeypatch):
    """A Ctrl-C while the second file is staged leaves the first one unwritten too."""
    calls = []
    real_fsync = os.fsync

    def fsync_then_interrupt(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(harness.fsutil.os, "fsync", fsync_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_files({tmp_path / "out" / "result.json": b"{}", tmp_path / "out" / "report.html": b"<html>"})
    monkeypatch.undo()
    assert _files(tmp_path) == []
    written = atomic_write_files({tmp_path / "out" / "result.json": b"{}", tmp_path / "out" / "report.html": b"<html>"})
    assert [p.name for p in written] == ["result.json", "report.html"]
    assert _files(tmp_path) == ["out/report.html", "out/result.json"]


@pytest.mark.parametrize("bad", ["", ".", "..", "adir"])
def test_refuses_names_that_are_not_files(tmp_path, bad):
    (tmp_path / "adir").mkdir()
    with pytest.raises(HarnessError):
        atomic_write_text(tmp_path / bad if bad else Path(""), "x")


def test_unwritable_folder_is_one_line_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(HarnessError, match="afile is a file, not a folder"):
        atomic_write_text(tmp_path / "afile" / "sub" / "r.json", "x")


# ---------------------------------------------------------------- through the CLI

@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOEBENCH_STORE", str(tmp_path / "store.sqlite"))
    return tmp_path


def _assert_interrupted(res: Any, root: Path) -> None:
    assert res.exit_code == 130, res.output
    assert res.stderr.splitlines() == ["error: interrupted — no file was left half-written"]
    assert _files(root) == []


def test_ctrl_c_during_probe_writes_nothing(cwd, monkeypatch):
    monkeypatch.setattr(harness.app.run, "default_probe", _raiser(KeyboardInterrupt()))
    res = runner.invoke(app, ["run", "--no-store", "--out", "out"])
    _assert_interrupted(res, cwd)


def test_ctrl_c_while_writing_result_writes_nothing(cwd, monkeypatch, fake_probe_fn):
    monkeypatch.setattr(harness.app.run, "default_probe", fake_probe_fn)
    monkeypatch.setattr(harness.fsutil.os, "fsync", _raiser(KeyboardInterrupt()))
    res = runner.invoke(app, ["run", "--no-store", "--out", "out"])
    _assert_interrupted(res, cwd)


def test_disk_full_while_writing_is_one_line(cwd, monkeypatch, fake_probe_fn):
    monkeypatch.setattr(harness.app.run, "default_probe", fake_probe_fn)
    monkeypatch.setattr(harness.fsutil.os, "fsync", _raiser(OSError(errno.ENOSPC, "No space left on device")))
    res = runner.invoke(app, ["run", "--no-store", "--out", "out"])
    assert res.exit_code == 2 and res.stderr.startswith("error: cannot write") and len(res.stderr.splitlines()) == 1
    assert _files(cwd) == []


# A real SIGINT to the real entry point while a probe is busy in a worker thread: exit at once.
_BUSY_PROBE = textwrap.dedent("""
    import sys, threading, time
    from pathlib import Path
    import harness.app.run
    from harness.cli import main

    def probe(quick=False, progress=None, **_):
        threading.Thread(target=time.sleep, args=(120,), name="stream-worker").start()
        Path("ready").touch()
        time.sleep(120)

    harness.app.run.default_probe = probe
    main(["run", "--no-store", "--out", "out"])
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_with_busy_worker_thread_exits_at_once(tmp_path):
    env = {**os.environ, "MOEBENCH_STORE": str(tmp_path / "store.sqlite")}
    proc = subprocess.Popen([sys.executable, "-c", _BUSY_PROBE], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        (tmp_path / "ready").unlink()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - sent < 5
    assert proc.returncode == 130, err
    assert err.splitlines() == ["error: interrupted — no file was left half-written"] and out == ""
    assert _files(tmp_path) == []
