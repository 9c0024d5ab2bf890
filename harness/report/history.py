"""The history page: one trend chart per metric (matplotlib, inline SVG) and the runs table, laid
out by ``reports/templates/history.html.j2``."""

from __future__ import annotations

import io

from typing import TYPE_CHECKING

from harness.analysis.compare import format_pct
from harness.analysis.history import History, Series, _tag_text, _when
from harness.metrics import get_metric
from harness.report._render import environment

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def trend_figure(series: Series) -> "Figure":
    """The trend chart of one metric: medians, sample range, steps marked (no pyplot state)."""
    from matplotlib.figure import Figure  # deferred: matplotlib costs ~0.3 s at start-up

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


def render_html(history: History, selector: str = "") -> str:
    """A self-contained page: the runs table and one inline SVG chart per metric."""
    runs = [{"id": r.run_id[:12], "when": _when(r.started_at), "machine": r.machine_name or "—",
             "fingerprint": (r.fingerprint or "—")[:8], "tags": _tag_text(r.tags)}
            for r in history.runs]
    series = [{"metric": s.metric, "svg": render_svg(s), "steps": [
        {"verdict": c.verdict, "run": s.points[c.index].run_id[:12],
         "text": f"{get_metric(s.metric).format(c.before)} → {get_metric(s.metric).format(c.after)}"
                 f" ({format_pct(c.change_pct)}, {c.verdict})"} for c in s.change_points]}
        for s in history.series if s.points]
    return environment().get_template("history.html.j2").render(runs=runs, series=series, selector=selector)
