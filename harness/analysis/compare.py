"""Regression detection: pure functions over samples, no I/O.

Thresholds on one number break on noisy machines, so a metric with repeated samples is judged by
a Mann–Whitney U rank test *and* a minimum effect size (relative change of the medians): a change
must be both real (p < alpha) and big enough to matter (>= threshold). A metric with a single
value per side (a prediction) has no noise to test, so it is judged by the threshold alone.
Change points in a series of runs are found by L1 binary segmentation (the idea of asv's
``step_detect``), with the same threshold as the minimum step.

Directions come from ``harness.metrics`` — never restated here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from statistics import median
from typing import Any, Mapping, Sequence

from harness.metrics import get_metric

DEFAULT_THRESHOLD = 0.05  # 5 %: below the run-to-run spread of STREAM on most servers
DEFAULT_ALPHA = 0.05
_EXACT_MAX_CELLS = 400  # exact U distribution up to n1*n2 = 400 (20 x 20); normal beyond

VERDICTS = ("regressed", "improved", "unchanged", "new", "missing")


@dataclass(frozen=True)
class Change:
    """The verdict on one metric between a baseline and a candidate."""

    metric: str
    unit: str
    higher_is_better: bool
    verdict: str  # one of VERDICTS
    method: str  # "mann-whitney", "threshold" or "none"
    base_median: float | None
    cand_median: float | None
    change_pct: float | None  # (cand - base) / |base| * 100, sign as measured
    p_value: float | None
    n_base: int
    n_cand: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChangePoint:
    """A step in a series: values from ``index`` on sit at a new level."""

    index: int
    before: float  # median of the pooled samples before the step
    after: float
    change_pct: float | None  # None when ``before`` is 0
    verdict: str  # "improved" or "regressed"


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) of ``values`` and the sizes of the tie groups."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


@lru_cache(maxsize=None)
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Number of orderings giving each U = 0..n1*n2 (no ties): f(m,n,u)=f(m-1,n,u-n)+f(m,n-1,u)."""
    if n1 == 0 or n2 == 0:
        return (1,)
    left, right = _u_counts(n1 - 1, n2), _u_counts(n1, n2 - 1)
    counts = [0] * (n1 * n2 + 1)
    for u, c in enumerate(left):
        counts[u + n2] += c
    for u, c in enumerate(right):
        counts[u] += c
    return tuple(counts)


def _exact_p(u: float, n1: int, n2: int) -> float:
    counts = _u_counts(n1, n2)
    tail = sum(counts[: int(math.floor(min(u, n1 * n2 - u))) + 1])
    return min(1.0, 2 * tail / sum(counts))


def _normal_p(u: float, n1: int, n2: int, ties: list[int]) -> float:
    n = n1 + n2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return 1.0
    z = max(0.0, abs(u - n1 * n2 / 2) - 0.5) / sigma  # continuity correction
    return min(1.0, math.erfc(z / math.sqrt(2)))


def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """U statistic of ``x`` and two-sided p-value (exact when small and untied, else normal).

    Agrees with ``scipy.stats.mannwhitneyu`` (method "exact" when untied and n1*n2 <= 400, else
    "asymptotic" with tie and continuity corrections) without making scipy a dependency.
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney_u needs samples on both sides")
    ranks, ties = _ranks([*x, *y])
    u = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    if max(ties) == 1 and n1 * n2 <= _EXACT_MAX_CELLS:
        return u, _exact_p(u, n1, n2)
    return u, _normal_p(u, n1, n2, ties)


def min_p_value(n1: int, n2: int) -> float:
    """The smallest two-sided p the exact test can give: 3 vs 3 samples can never reach 0.05."""
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def _change_pct(base: float, cand: float) -> float | None:
    if base == cand:
        return 0.0
    return None if base == 0 else (cand - base) / abs(base) * 100


def _big(base: float, cand: float, threshold: float) -> bool:
    """Whether the medians differ by at least ``threshold``, judged as the ratio of the larger to
    the smaller (asv's ``factor``) so that swapping the sides never changes the answer: measured
    against the baseline alone, 1.0 -> 1.051 (+5.1 %) would count at 5 % but 1.051 -> 1.0
    (-4.8 %) would not. Medians at or below zero have no ratio; there the difference is taken
    against the larger magnitude, symmetric too."""
    if base == cand:
        return False
    if base > 0 and cand > 0:
        return max(base, cand) / min(base, cand) >= 1 + threshold
    return abs(cand - base) >= threshold * max(abs(base), abs(cand))


def _direction(change_pct: float, higher_is_better: bool) -> str:
    return "improved" if (change_pct > 0) == higher_is_better else "regressed"


def detect(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    metric: str = "",
    higher_is_better: bool | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> Change:
    """Verdict for one metric from its baseline and candidate samples.

    ``threshold`` is the minimum relative change of the medians (0.05 = 5 %: the larger at least
    1.05 times the smaller, whichever side it is on; see ``_big``). With enough samples
    the change must also be significant; with too few for the rank test to ever reach ``alpha``
    (a single prediction, or 3 vs 3) the threshold alone decides, and ``method`` says so.
    """
    info = get_metric(metric)
    hib = info.higher_is_better if higher_is_better is None else higher_is_better
    base, cand = [float(v) for v in baseline], [float(v) for v in candidate]
    if not base or not cand:
        return Change(metric, info.unit, hib, "missing" if base else "new", "none",
                      median(base) if base else None, median(cand) if cand else None,
                      None, None, len(base), len(cand))
    b, c = median(base), median(cand)
    pct = _change_pct(b, c)
    p = None
    method = "threshold"
    if min_p_value(len(base), len(cand)) < alpha:
        method, p = "mann-whitney", mann_whitney_u(base, cand)[1]
    big = _big(b, c, threshold)
    real = p is None or p < alpha
    verdict = _direction(c - b, hib) if big and real else "unchanged"
    return Change(metric, info.unit, hib, verdict, method, b, c, pct, p, len(base), len(cand))


def compare_samples(
    baseline: Mapping[str, Sequence[float]],
    candidate: Mapping[str, Sequence[float]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> list[Change]:
    """``detect`` for every metric on either side, in name order."""
    names = sorted(set(baseline) | set(candidate))
    return [detect(baseline.get(n, ()), candidate.get(n, ()), metric=n,
                   threshold=threshold, alpha=alpha) for n in names]


def regressions(changes: Sequence[Change]) -> list[Change]:
    """The changes that should fail a CI gate."""
    return [c for c in changes if c.verdict == "regressed"]


def _l1(values: Sequence[float]) -> float:
    m = median(values)
    return sum(abs(v - m) for v in values)


def _best_split(values: Sequence[float]) -> tuple[int, float]:
    """Split index minimising the summed L1 cost of the two segments, and that cost."""
    costs = [(_l1(values[:i]) + _l1(values[i:]), i) for i in range(1, len(values))]
    cost, index = min(costs)
    return index, cost


def _as_samples(run: float | Sequence[float]) -> list[float]:
    return [float(run)] if isinstance(run, (int, float)) else [float(v) for v in run]


def change_points(
    runs: Sequence[float | Sequence[float]],
    *,
    higher_is_better: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> list[ChangePoint]:
    """Steps in a series of runs (each a value or its samples, in time order).

    L1 binary segmentation over the run medians proposes a split; it is kept when it removes at
    least ``threshold`` of L1 deviation (one outlier in a flat series does not) and ``detect``
    on the pooled samples either side calls it a change — so a noisy machine's run-to-run
    wobble, which the samples show, is not marked as a step.
    """
    samples = [_as_samples(r) for r in runs]
    found = _segment(samples, 0, hib=higher_is_better, threshold=threshold, alpha=alpha)
    return sorted(found, key=lambda cp: cp.index)


def _segment(runs: list[list[float]], offset: int, *, hib: bool, threshold: float,
             alpha: float) -> list[ChangePoint]:
    if len(runs) < 2 or not all(runs):
        return []
    medians = [median(r) for r in runs]
    index, cost = _best_split(medians)
    left = [v for r in runs[:index] for v in r]
    right = [v for r in runs[index:] for v in r]
    change = detect(left, right, higher_is_better=hib, threshold=threshold, alpha=alpha)
    scale = abs(median(medians)) or 1.0
    if change.verdict == "unchanged" or _l1(medians) - cost < threshold * scale:
        return []
    here = ChangePoint(offset + index, change.base_median, change.cand_median, change.change_pct,
                       change.verdict)
    more = {"hib": hib, "threshold": threshold, "alpha": alpha}
    return [*_segment(runs[:index], offset, **more), here,
            *_segment(runs[index:], offset + index, **more)]


@dataclass(frozen=True)
class Comparison:
    """Every metric's verdict between two sides, with where each side came from."""

    base_label: str
    cand_label: str
    base_runs: tuple[str, ...]
    cand_runs: tuple[str, ...]
    changes: list[Change]
    threshold: float = DEFAULT_THRESHOLD
    alpha: float = DEFAULT_ALPHA
    notes: tuple[str, ...] = ()  # facts a reader must know, e.g. the sides ran on other hardware

    @property
    def regressed(self) -> list[Change]:
        return regressions(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": {"label": self.base_label, "runs": list(self.base_runs)},
            "candidate": {"label": self.cand_label, "runs": list(self.cand_runs)},
            "threshold_pct": self.threshold * 100,
            "alpha": self.alpha,
            "changes": [c.to_dict() for c in self.changes],
            "regressed": [c.metric for c in self.regressed],
            "notes": list(self.notes),
        }


# --- text rendering (pure string building; the CLI only prints it) -------------------------------

def _fmt_value(metric: str, value: float | None) -> str:
    return get_metric(metric).format(value)


def format_pct(pct: float | None) -> str:
    return "—" if pct is None else f"{pct:+.1f}%"


def _fmt_p(p: float | None) -> str:
    return "—" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _side_line(title: str, label: str, runs: tuple[str, ...]) -> str:
    count = f"{len(runs)} run" + ("" if len(runs) == 1 else "s")
    return f"{title:<10}{label}  ({count})"


def summary_line(comparison: Comparison) -> str:
    """One line a CI log can grep: the regressed metrics by name, or the all-clear."""
    bad = comparison.regressed
    if bad:
        names = ", ".join(f"{c.metric} ({format_pct(c.change_pct)})" for c in bad)
        return f"REGRESSED {len(bad)}: {names}"
    counts = {v: sum(c.verdict == v for c in comparison.changes) for v in VERDICTS}
    parts = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    return f"no regression ({parts or 'no metrics'})"


def format_comparison(comparison: Comparison) -> str:
    """The table ``moebench compare`` prints."""
    header = ("metric", "base", "candidate", "change", "p", "verdict")
    rows = [(c.metric, _fmt_value(c.metric, c.base_median), _fmt_value(c.metric, c.cand_median),
             format_pct(c.change_pct), _fmt_p(c.p_value), c.verdict) for c in comparison.changes]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    return "\n".join([
        _side_line("base", comparison.base_label, comparison.base_runs),
        _side_line("candidate", comparison.cand_label, comparison.cand_runs),
        f"threshold {comparison.threshold * 100:g}%, alpha {comparison.alpha:g} "
        "(Mann–Whitney U on samples; single values by threshold alone)",
        *[f"note: {n}" for n in comparison.notes],
        "", *table, "", summary_line(comparison),
    ]) + "\n"
