"""The outside systems the probes read, each behind one small interface.

Probes never open files, run commands or read the clock directly: they take a ``Sources`` and a
``Clock`` so that tests can replay files captured on real machines (see ``tests/probe_fakes.py``)
and so that a missing file or a refused command is one well-defined case (``None``), not an
exception somewhere deep in a parser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Protocol


class Sources(Protocol):
    """Files under /proc and /sys, directory listings, and read-only commands such as dmidecode."""

    def read_text(self, path: str) -> str | None:
        """The file's text, or None when it is absent or unreadable."""

    def list_dir(self, path: str) -> list[str] | None:
        """Sorted entry names, or None when the directory is absent or unreadable."""

    def run(self, argv: list[str], timeout: float) -> str | None:
        """The command's stdout, or None when it is missing, not permitted, fails or times out."""


class Clock(Protocol):
    """A monotonic clock in seconds (only differences are meaningful)."""

    def monotonic(self) -> float:
        """Seconds since an arbitrary fixed point."""


class RealSources:
    """The running machine. Never raises for a missing or unreadable file or command."""

    def read_text(self, path: str) -> str | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, ValueError):
            return None

    def list_dir(self, path: str) -> list[str] | None:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return None

    def run(self, argv: list[str], timeout: float) -> str | None:
        if not argv or shutil.which(argv[0]) is None:
            return None
        try:
            done = subprocess.run(  # noqa: S603 - argv list, never a shell
                argv, capture_output=True, text=True, timeout=timeout, check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None


class RealClock:
    """``time.perf_counter``: monotonic with the finest resolution the platform offers."""

    def monotonic(self) -> float:
        return time.perf_counter()
