"""The report's edges: find a result from what the user typed, read a logo file.

A source is a ``result.json``, a run folder (its ``result.json``), or a run id (or unique prefix)
in the results store. Everything read here is checked and refused with a one-line HarnessError.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.report._context import Logo
from harness.results import check_schema, load_result

MAX_LOGO_BYTES = 512 * 1024
_LOGO_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


def load_source(ref: str, store_url: str | None = None) -> dict[str, Any]:
    """The result a RUN argument names: a file, a run folder, or a run id in the store."""
    path = Path(ref)
    if path.exists():
        return load_result(path)
    if ref.endswith(".json") or "/" in ref or "\\" in ref:
        raise HarnessError(f"{ref}: no such file or folder — give a result.json, a run folder or a run id")
    return _load_from_store(ref, store_url)


def _load_from_store(ref: str, url: str | None) -> dict[str, Any]:
    try:
        from harness.store import open_store
    except ImportError:
        raise HarnessError(f"{ref}: no such file, and this moebench has no results store to look the run up in") from None
    try:
        with open_store(url, create=False) as store:
            document = store.load_result(store.find_run(ref))
    except HarnessError as exc:
        raise HarnessError(f"{ref} is not a file or folder, and as a run id: {exc}") from None
    if not isinstance(document, dict):
        raise HarnessError(f"run {ref}: the stored document is not a result object")
    check_schema(document, f"run {ref}")
    return document


def load_logo(path: Path) -> Logo:
    """A PNG, JPEG, GIF, WebP or SVG logo as a data URI (an <img> never runs an SVG's scripts)."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"--logo {path}: no such file")
    size = path.stat().st_size
    if size > MAX_LOGO_BYTES:
        raise HarnessError(f"--logo {path} is {size} bytes; a logo may have at most {MAX_LOGO_BYTES} — shrink it")
    data = path.read_bytes()
    mime = logo_type(data)
    if mime is None:
        raise HarnessError(f"--logo {path}: not a PNG, JPEG, GIF, WebP or SVG image")
    return Logo(mime, f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")


def logo_type(data: bytes) -> str | None:
    """The image type from the file's first bytes, not its name."""
    for magic, mime in _LOGO_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head) or b"<svg" in head[:512]:
        return "image/svg+xml"
    return None
