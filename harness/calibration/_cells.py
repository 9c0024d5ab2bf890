"""Numbers and words out of the free text of a calibration CSV cell: a number (scientific notation,
ASCII digits only), a range read as its middle, a leading integer, a prompt/depth pair, a lookup
in a table of (substring, value) pairs."""

from __future__ import annotations

import math
import re


_NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"


def _num(text: str | None) -> float | None:
    """The number a free-text cell gives: "~14", "14 tok/s", "1,234.5", "1.2e1"; a range ("12-16",
    "12 to 16") gives its middle; an overflowing or underflowing exponent ("1e400") gives None."""
    t = (text or "").replace(",", "")
    rng = re.match(rf"[^0-9]*?({_NUMBER})\s*(?:-|–|to)\s*({_NUMBER})", t)
    m = re.search(rf"[-+]?{_NUMBER}", t)
    if rng:
        lo, hi = float(rng.group(1)), float(rng.group(2))
        value = (lo + hi) / 2 if lo and hi else None
    else:
        value = float(m.group()) if m else None
        if value == 0 and m and re.search(r"[1-9]", m.group()):
            value = None  # "1e-400": underflowed, not zero
    return value if value is not None and math.isfinite(value) else None


def _pos(text: str | None) -> float | None:
    """A physical quantity (bandwidth, speed, count): its number when positive, else None (absent)."""
    value = _num(text)
    return value if value is not None and value > 0 else None


def parse_prompt(text: str) -> tuple[int | None, int]:
    """(prompt tokens, KV depth the prompt is processed at) from the row's context column, where
    stated: "pp512", "PP512/TG128 @ N_KV=0", "prompt 7678", "500 prompt"; "@ depth 32768" is the
    depth of llama-bench's "-d" runs, which applies to its prompt processing as to its decode."""
    t = (text or "").lower().replace(",", "")
    size = re.search(r"\bpp(\d+)|prompt (\d+)|(\d+) prompt", t)
    prompt = int(next(g for g in size.groups() if g)) if size else None
    depth = re.search(r"@ depth (\d+)|n_kv=(\d+)", t)
    return prompt, int(next(g for g in depth.groups() if g)) if depth else 0


def lead_int(text: str | None) -> int | None:
    """The integer a column starts with ('16 (2x8)' -> 16), or None."""
    m = re.match(r"\s*([0-9]+)", text or "")
    return int(m.group(1)) if m else None


def _lookup(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    low = text.lower()
    return next((v for k, v in table if k in low), None)
