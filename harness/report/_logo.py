"""The report's one input besides the result: a logo file, checked by its first bytes.

"""

from __future__ import annotations

import base64
from pathlib import Path

from harness.errors import HarnessError
from harness.report._context import Logo

MAX_LOGO_BYTES = 512 * 1024
_LOGO_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


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
