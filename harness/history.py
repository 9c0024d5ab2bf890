"""``moebench history``: runs over time, one series per metric, change points marked.

``build_history`` is pure (runs and their metrics in, a ``History`` out); ``load_history`` reads
the store; the rest renders: a text table, a JSON-able dict, an SVG chart per metric drawn with
matplotlib, and one self-contained HTML page laid out by a small jinja2 template.
"""

from __future__ import annotations

import fnmatch
import io
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.compare import DEFAULT_THRESHOLD, ChangePoint, change_points, format_pct
from harness.errors import HarnessError
from harness.metrics import get_metric
from harness.store.core import RunInfo, open_store
from harness.store.results import MetricRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
    runs: list[RunInfo]
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


def _series(metric: str, runs: Sequence[RunInfo], by_run: Mapping[str, Mapping[str, MetricRecord]],
            threshold: float) -> Series:
    info = get_metric(metric)
    points = [Point(r.run_id, r.started_at, m.value, min(m.samples), max(m.samples))
              for r in runs if (m := by_run[r.run_id].get(metric)) is not None]
    steps = change_points([by_run[p.run_id][metric].samples for p in points],
                          higher_is_better=info.higher_is_better, threshold=threshold)
    unit = next(by_run[p.run_id][metric].unit for p in points)
    return Series(metric, unit, info.higher_is_better, points, steps)


def build_history(runs: Sequence[RunInfo], metrics: Mapping[str, Sequence[MetricRecord]],
                  patterns: Sequence[str] = (), threshold: float = DEFAULT_THRESHOLD) -> History:
    """Series for the chosen metrics (all of them when ``patterns`` is empty), runs in time order."""
    check_history_options(patterns, threshold)
    by_run = {r.run_id: {m.name: m for m in metrics.get(r.run_id, ())} for r in runs}
    available = sorted({name for records in by_run.values() for name in records})
    names = select_metrics(available, patterns) if patterns else available
    return History(list(runs), [_series(n, runs, by_run, threshold) for n in names])


def load_history(url: str | None = None, tags: Mapping[str, str] | None = None,
                 patterns: Sequence[str] = (), threshold: float = DEFAULT_THRESHOLD) -> History:
    """The history of the runs matching ``tags`` in the store at ``url`` (which must exist:
    reading never creates a store)."""
    check_history_options(patterns, threshold)
    with open_store(url, create=False) as store:
        runs = store.runs(tags)
        metrics = store.metrics(r.run_id for r in runs)
    return build_history(runs, metrics, patterns, threshold)


# --- rendering ------------------------------------------------------------------------------------

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


def trend_figure(series: Series) -> "Figure":
    """The trend chart of one metric: medians, sample range, steps marked (no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 2.6))
    ax = fig.add_subplot()
    xs = list(range(len(series.points)))
    ys = [p.value for p in series.points]
    ax.fill_between(xs, [p.low for p in series.points], [p.high for p in series.points],
                    alpha=0.2, label="sample range")
    ax.plot(xs, ys, marker="o", label="median")
    for c in series.change_points:
        color = "tab:red" if c.verdict == "regressed" else "tab:green"
        ax.axvline(c.index - 0.5, color=color, linestyle="--", gid=f"change-point-{c.verdict}")
        ax.annotate(f" {format_pct(c.change_pct)}", (c.index - 0.5, 0.97), color=color, fontsize=8,
                    xycoords=("data", "axes fraction"), va="top")
    ax.set_title(series.metric, fontsize=10)
    ax.set_ylabel(series.unit)
    ax.set_xlabel("run, oldest to newest")
    ax.set_xticks(xs, [p.run_id[:6] for p in series.points], fontsize=7,
                  rotation=45 if len(xs) > 8 else 0)
    fig.tight_layout()
    return fig


def render_svg(series: Series) -> str:
    """``trend_figure`` as inline SVG text, reproducible byte for byte."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "moebench"  # stable element ids
    fig = trend_figure(series)
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>moebench history</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}
.regressed{color:#b00}.improved{color:#070}</style></head><body>
<h1>moebench history</h1>
<p>{{ runs|length }} run(s){% if selector %} matching {{ selector }}{% endif %}.</p>
<table><tr><th>run</th><th>started (UTC)</th><th>machine</th><th>fingerprint</th><th>tags</th></tr>
{% for r in runs %}<tr><td>{{ r.id }}</td><td>{{ r.when }}</td><td>{{ r.machine }}</td>
<td>{{ r.fingerprint }}</td><td>{{ r.tags }}</td></tr>
{% endfor %}</table>
{% for s in series %}<section><h2>{{ s.metric }}</h2>{{ s.svg|safe }}
{% for c in s.steps %}<p class="{{ c.verdict }}">step at run {{ c.run }}: {{ c.text }}</p>{% endfor %}
</section>
{% endfor %}</body></html>
"""


def render_html(history: History, selector: str = "") -> str:
    """A self-contained page: the runs table and one inline SVG chart per metric."""
    import jinja2

    runs = [{"id": r.run_id[:12], "when": _when(r.started_at), "machine": r.machine_name or "—",
             "fingerprint": (r.fingerprint or "—")[:8], "tags": _tag_text(r.tags)}
            for r in history.runs]
    series = [{"metric": s.metric, "svg": render_svg(s), "steps": [
        {"verdict": c.verdict, "run": s.points[c.index].run_id[:12],
         "text": f"{get_metric(s.metric).format(c.before)} → {get_metric(s.metric).format(c.after)}"
                 f" ({format_pct(c.change_pct)}, {c.verdict})"} for c in s.change_points]}
        for s in history.series if s.points]
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_PAGE).render(runs=runs, series=series, selector=selector)
