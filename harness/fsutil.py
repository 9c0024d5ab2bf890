"""File edges: atomic output, bounded input, names safe to put in a file name.

Output goes to a temporary file beside the target, is fsynced, then renamed over it: a reader (or a
Ctrl-C) never sees half a file, either the old content or the new one, and no temporary file is
left behind. Input files are size-checked before they are read, and JSON nesting cannot exhaust
the interpreter's stack.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent folders."""
    return atomic_write_files({Path(path): data})[0]


def atomic_write_files(files: dict[Path, bytes]) -> list[Path]:
    """Write several files as one step: every temporary file first, then the renames, so a failure
    or Ctrl-C while writing leaves none of them new (result.json never without its report.html)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_stage(Path(path), data), Path(path)))
        for tmp, path in staged:
            os.replace(tmp, path)
        for folder in {path.parent for _, path in staged}:
            _sync_folder(folder)
    except BaseException as exc:
        for tmp, _ in staged:
            _remove(tmp)
        if isinstance(exc, OSError):
            raise HarnessError(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc} — "
                               "check the path and free space") from None
        raise
    return [path for _, path in staged]


def _stage(path: Path, data: bytes) -> str:
    """``data`` in a fsynced temporary file beside ``path`` (same folder, so the rename is atomic)."""
    _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise HarnessError(f"cannot write in {path.parent}: {exc.strerror} — choose another path") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if hasattr(os, "fchmod"):  # mkstemp makes 0600; keep what a plain write would give
                os.fchmod(fh.fileno(), _mode_for(path))
            os.fsync(fh.fileno())
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, OSError):
            raise HarnessError(f"cannot write {path}: {exc.strerror or exc} — check the path and free space") from None
        raise
    return tmp


def _check_target(path: Path) -> None:
    """``path`` can become a file: a real name, no file in the way of its folder, not a folder."""
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise HarnessError(f"{str(path)!r} is not a file name — give a path such as out/report.html")
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise HarnessError(f"cannot write {path}: {blocker} is a file, not a folder — choose another path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(f"cannot create folder {path.parent}: {exc.strerror} — choose another path") from None
    if path.is_dir():
        raise HarnessError(f"{path} is a directory — give a file name")


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(path: Path) -> int:
    """The permission bits the file has now, or a new file's under the process umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def read_bounded_bytes(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked before reading."""
    path = Path(path)
    if not path.exists():
        raise HarnessError(f"{path}: no such file — check the path")
    if path.is_dir():
        raise HarnessError(f"{path} is a directory — give a file")
    if not path.is_file():
        raise HarnessError(f"{path} is not a regular file — give a {what}")
    try:
        size = path.stat().st_size
        if size > limit:
            raise HarnessError(f"{path} is {size} bytes, more than the {limit} a {what} may have — "
                               "is it the right file?")
        with path.open("rb") as fh:
            return fh.read(limit + 1)[:limit]
    except OSError as exc:
        raise HarnessError(f"cannot read {path}: {exc.strerror or exc} — check the path and permissions") from None


def parse_json_text(text: str | bytes, source: str) -> Any:
    """JSON from a user's file; every way it can be malformed becomes one HarnessError."""
    if not text.strip():
        raise HarnessError(f"{source} is empty — not a moebench file")
    if (b"\x00" if isinstance(text, bytes) else "\x00") in text:
        raise HarnessError(f"{source} is a binary file, not JSON — is it the right file?")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}) — "
                           "is it truncated?") from None
    except UnicodeDecodeError:
        raise HarnessError(f"{source}: not UTF-8 text — save it as UTF-8 JSON") from None
    except RecursionError:
        raise HarnessError(f"{source}: JSON nested too deeply — not a moebench file") from None
    except ValueError:  # an integer with more digits than Python converts (4300 by default)
        raise HarnessError(f"{source}: holds a number too long to read — not a moebench file") from None


def safe_name(text: str, default: str = "run", limit: int = 64) -> str:
    """``text`` reduced to letters, digits, ``_ . -`` for use inside a file name (never ``..``)."""
    name = _UNSAFE.sub("-", str(text)).strip(".-")[:limit].strip(".-")
    return name or default
