"""``moebench history``: runs over time, one series per metric, change points marked.

Pure: runs and their metrics in (any objects with the fields of ``RunLike`` and ``RecordLike``,
such as the store's ``RunLike`` and ``RecordLike``), a ``History`` out, and its text and JSON
forms. Loading is ``harness.app.history``; the HTML page and charts are ``harness.report.history``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Protocol, Sequence

from harness.analysis.compare import DEFAULT_THRESHOLD, ChangePoint, change_points, format_pct
from harness.errors import HarnessError
from harness.metrics import get_metric



class RunLike(Protocol):
    """A stored run as history needs it (``harness.store.RunLike``)."""

    run_id: str
    started_at: datetime | None
    machine_name: str | None
    fingerprint: str | None
    tags: Mapping[str, str]


class RecordLike(Protocol):
    """One metric of one run (``harness.store.RecordLike``)."""

    name: str

# Shown in the text table when no --metric is given: the figures a BIOS or DIMM change moves.
_HEADLINE = ("stream_triad", "moe_replay", "gemm_fp32", "decode_tokens_per_s@*")


@dataclass(frozen=True)
class Point:
    run_id: str
    started_at: datetime | None
    value: float  # median of the run's samples
    low: float
    high: float


@dataclass(frozen=True)
class Series:
    metric: str
    unit: str
    higher_is_better: bool
    points: list[Point]
    change_points: list[ChangePoint]


@dataclass(frozen=True)
class History:
    runs: list[RunLike]
    series: list[Series]


def check_history_options(patterns: Sequence[str], threshold: float) -> None:
    """Refuse what no history can mean: a blank metric pattern, a negative or non-finite step."""
    if any(not str(p).strip() for p in patterns):
        raise HarnessError("--metric is empty — give a metric name or a glob such as "
                           "'decode_tokens_per_s@*'")
    if not 0 <= threshold < 10:  # NaN fails every comparison
        raise HarnessError(f"--threshold {threshold * 100:g} is not a percentage between 0 and "
                           "1000 — give the smallest step to mark, e.g. 5")


def select_metrics(available: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """Metric names matching the patterns (exact names or globs like ``decode_tokens_per_s@*``)."""
    chosen = [n for n in available if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    missing = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in available)]
    if missing:
        known = ", ".join(available) or "none"
        raise HarnessError(f"no stored metric matches {', '.join(missing)}; known: {known}")
    return chosen


def _series(metric: str, runs: Sequence[RunLike], by_run: Mapping[str, Mapping[str, RecordLike]],
            threshold: float) -> Series:
    info = get_metric(metric)
    points = [Point(r.run_id, r.started_at, m.value, min(m.samples), max(m.samples))
              for r in runs if (m := by_run[r.run_id].get(metric)) is not None]
    steps = change_points([by_run[p.run_id][metric].samples for p in points],
                          higher_is_better=info.higher_is_better, threshold=threshold)
    unit = next(by_run[p.run_id][metric].unit for p in points)
    return Series(metric, unit, info.higher_is_better, points, steps)


def build_history(runs: Sequence[RunLike], metrics: Mapping[str, Sequence[RecordLike]],
                  patterns: Sequence[str] = (), threshold: float = DEFAULT_THRESHOLD) -> History:
    """Series for the chosen metrics (all of them when ``patterns`` is empty), runs in time order."""
    check_history_options(patterns, threshold)
    by_run = {r.run_id: {m.name: m for m in metrics.get(r.run_id, ())} for r in runs}
    available = sorted({name for records in by_run.values() for name in records})
    names = select_metrics(available, patterns) if patterns else available
    return History(list(runs), [_series(n, runs, by_run, threshold) for n in names])


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "—"


def _tag_text(tags: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(tags.items())) or "—"


def history_to_dict(history: History) -> dict[str, Any]:
    """Plain data for ``--json``."""
    return {
        "runs": [{"run_id": r.run_id, "started_at": r.started_at.isoformat() + "Z"
                  if r.started_at else None, "harness_version": r.harness_version,
                  "machine": r.machine_name, "fingerprint": r.fingerprint, "tags": r.tags}
                 for r in history.runs],
        "metrics": {s.metric: {
            "unit": s.unit, "higher_is_better": s.higher_is_better,
            "points": [{"run_id": p.run_id, "value": p.value, "low": p.low, "high": p.high}
                       for p in s.points],
            "change_points": [{"run_id": s.points[c.index].run_id, "before": c.before,
                               "after": c.after, "change_pct": c.change_pct,
                               "verdict": c.verdict} for c in s.change_points],
        } for s in history.series},
    }


def _table_metrics(history: History, explicit: bool) -> list[Series]:
    if explicit:
        return history.series
    return [s for p in _HEADLINE for s in history.series if fnmatch.fnmatchcase(s.metric, p)][:4]


def format_history(history: History, explicit: bool = False) -> str:
    """Runs as a text table with the headline metrics (or the chosen ones), then the steps."""
    shown = _table_metrics(history, explicit)
    values = {s.metric: {p.run_id: p.value for p in s.points} for s in shown}
    header = ["run", "started (UTC)", "machine", "fingerprint", "tags", *[s.metric for s in shown]]
    rows = [[r.run_id[:12], _when(r.started_at), r.machine_name or "—", (r.fingerprint or "—")[:8],
             _tag_text(r.tags), *[get_metric(s.metric).format(values[s.metric].get(r.run_id))
                                  for s in shown]] for r in history.runs]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.append(f"\n{len(history.runs)} run(s)")
    for s in history.series:
        for c in s.change_points:
            p = s.points[c.index]
            lines.append(f"step in {s.metric} at run {p.run_id[:12]} ({_when(p.started_at)}): "
                         f"{get_metric(s.metric).format(c.before)} -> "
                         f"{get_metric(s.metric).format(c.after)} ({format_pct(c.change_pct)}, {c.verdict})")
    return "\n".join(lines) + "\n"
