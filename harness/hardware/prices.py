"""Money: the currencies a plan converts between, at a dated rate table stated in every plan's
assumptions, and how a hardware price becomes a cost per token.

Rates are units of the currency per US dollar. DERIVED (a fact table, not fitted): the USD/CNY
figure is about the People's Bank of China central parity through 2025 (7.10–7.20 CNY per USD); the
EUR figure about the ECB reference rate of late 2025 (1.15–1.17 USD per EUR). Exchange rates move a
few per cent a year; a buyer with a quote in one currency gives ``--price`` in it and converts
nothing.
"""

from __future__ import annotations

from harness.errors import HarnessError

RATES_DATE = "2025-12"
RATES_PER_USD = {"USD": 1.0, "CNY": 7.1, "EUR": 0.86}
_ALIASES = {"RMB": "CNY", "US$": "USD", "$": "USD", "¥": "CNY", "€": "EUR"}
RATES_SOURCE = ("about the People's Bank of China central parity (CNY) and the ECB reference rate (EUR) of "
                f"{RATES_DATE}")

# Hardware amortised over 3 years of continuous use (a common server depreciation period).
AMORTISATION_YEARS = 3.0
SECONDS_PER_YEAR = 365 * 24 * 3600


def check_currency(code: str | None, what: str = "--currency") -> str:
    """The upper-case code of a currency the rate table has; one clear line otherwise."""
    c = (code or "").strip().upper()
    c = _ALIASES.get(c, c)
    if c not in RATES_PER_USD:
        raise HarnessError(f"{what} {code!r}: no exchange rate for it — use one of {', '.join(RATES_PER_USD)}")
    return c


def convert(amount: float, src: str, dst: str) -> float:
    """``amount`` of ``src`` in ``dst`` at the table's rates (unchanged when they are the same)."""
    src, dst = check_currency(src, "currency"), check_currency(dst, "currency")
    if src == dst:
        return amount
    return amount / RATES_PER_USD[check_currency(src, "currency")] * RATES_PER_USD[check_currency(dst, "currency")]


def rate_assumption(used: set[str], dst: str) -> str | None:
    """The sentence a plan prints when it converted prices (None when every price was in ``dst``)."""
    others = sorted(c for c in used if c != dst)
    if not others:
        return None
    pairs = ", ".join(f"1 {c} = {convert(1.0, c, dst):.4g} {dst}" for c in others)
    return f"prices converted to {dst} at {pairs} ({RATES_SOURCE})"


def cost_per_million(price: float, output_tokens_per_s: float) -> float | None:
    """Hardware cost of a million output tokens: the price amortised over ``AMORTISATION_YEARS`` of
    generation at this rate without pause (power, hosting and idle time not included)."""
    if not price or output_tokens_per_s <= 0:
        return None
    return price / (output_tokens_per_s * AMORTISATION_YEARS * SECONDS_PER_YEAR / 1e6)


def electricity_per_million(power_kw: float, kwh_price: float, output_tokens_per_s: float) -> float | None:
    """Electricity of a million output tokens at full power draw."""
    if not power_kw or output_tokens_per_s <= 0:
        return None
    return power_kw * kwh_price * (1e6 / output_tokens_per_s) / 3600
