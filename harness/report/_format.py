"""Formatters for the reports, registered once: the context builders and the templates use the
same functions (``FILTERS`` become jinja2 filters), so a unit is never formatted two ways.

Every formatter takes ``None`` (a missing value) and returns an em dash.
"""

from __future__ import annotations

import math
from typing import Any, Callable

DASH = "—"
GB = 1e9


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_num(value: Any, digits: int = 1) -> str:
    """``1,234.5``; non-numbers pass through as text."""
    if _missing(value):
        return DASH
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def format_sig(value: Any, sig: int = 3) -> str:
    """About ``sig`` significant figures, never an exponent: 1,230 · 45.6 · 7.89 · 0.123."""
    if _missing(value):
        return DASH
    v = float(value)
    if v == 0:
        return "0"
    digits = max(0, sig - 1 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{digits}f}"


def format_tps(value: Any) -> str:
    """Tokens per second, 3 significant figures."""
    return DASH if _missing(value) else f"{format_sig(value)} tok/s"


def format_bytes(value: Any) -> str:
    """Decimal units as vendors and DESIGN.md use them: 673.4 GB, 1.15 TB."""
    if _missing(value):
        return DASH
    v = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(v) < 1000:
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1000
    return f"{v:,.2f} TB"


def format_gb(value: Any) -> str:
    """A size already in GB."""
    return DASH if _missing(value) else format_bytes(float(value) * GB)


def format_gbs(value: Any) -> str:
    """Bandwidth in GB/s."""
    return DASH if _missing(value) else f"{format_sig(value, 4)} GB/s"


def format_pct(value: Any, digits: int = 0, signed: bool = False) -> str:
    """A fraction (0.83) as a percentage (83%)."""
    if _missing(value):
        return DASH
    sign = "+" if signed else ""
    return f"{float(value) * 100:{sign}.{digits}f}%"


def format_seconds(value: Any) -> str:
    """Durations: 12.3 ms below a second, 1.23 s above."""
    if _missing(value):
        return DASH
    v = float(value)
    return f"{format_sig(v * 1000)} ms" if abs(v) < 1 else f"{format_sig(v)} s"


def format_tokens(value: Any) -> str:
    """Context lengths: 4,096 → 4k, 168,511 → 168k, 5,994,555 → 6.0M."""
    if _missing(value):
        return DASH
    v = int(value)
    if v >= 1_000_000:
        return f"{v / 1e6:.1f}M"
    if v >= 1024:
        return f"{v / 1024:.0f}k"
    return str(v)


def format_bool(value: Any, yes: str = "yes", no: str = "no") -> str:
    if value is None:
        return DASH
    return yes if value else no


def format_money(value: Any, currency: str | None) -> str:
    if _missing(value):
        return DASH
    return f"{format_sig(value, 3)} {currency or ''}".strip()


FILTERS: dict[str, Callable[..., str]] = {
    "num": format_num, "sig": format_sig, "tps": format_tps, "bytes": format_bytes, "gb": format_gb,
    "gbs": format_gbs, "pct": format_pct, "seconds": format_seconds, "tokens": format_tokens,
    "yesno": format_bool, "money": format_money,
}
