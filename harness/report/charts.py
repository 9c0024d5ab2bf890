"""Charts for the reports: plain data in, one self-contained inline ``<svg>`` string out.

matplotlib draws with the Agg-free SVG backend through ``Figure`` (no pyplot, no global state:
settings go through ``rc_context``). Text stays text (``svg.fonttype = none``) so the sheet is
small, searchable and uses the page's font; ids are salted with the chart's name so several
charts inline in one page never share an id, and the output is byte-for-byte reproducible.
Nothing here knows about results or predictions: ``harness.report`` builds the series.
"""

from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass
from typing import Sequence

# Okabe–Ito palette (colour-blind safe), then greys.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#999999", "#666666")
# One colour per tensor class / time component, the same in every chart and sheet.
CLASS_COLORS = {
    "routed_experts": "#0072B2", "shared_experts": "#56B4E9", "attention": "#E69F00",
    "dense_mlp": "#009E73", "embedding": "#CC79A7", "lm_head": "#D55E00", "router": "#F0E442",
    "norms": "#999999", "mtp": "#666666", "kv_cache": "#000000",
    "host memory": "#0072B2", "host compute": "#56B4E9", "GPU memory": "#009E73",
    "GPU compute": "#8fd1b9", "engine overhead": "#999999", "interconnect": "#CC79A7",
}
WIDTH_IN, HEIGHT_IN = 4.3, 2.55  # one chart in half an A4 column pair


@dataclass(frozen=True)
class Bar:
    """One horizontal bar of a bar chart."""

    label: str
    value: float
    group: str = ""  # bars of the same group share a colour ("measured", "theoretical", "GPU")
    note: str = ""  # printed after the value (e.g. "80% of peak")


@dataclass(frozen=True)
class Stack:
    """One horizontal stacked bar: ``parts`` maps a component to its size."""

    label: str
    parts: dict[str, float]
    panel: str = ""  # stacks with different panels go in side-by-side axes (host, GPU)
    limit: float | None = None  # usable capacity, drawn as a line
    note: str = ""


@dataclass(frozen=True)
class Line:
    """One series of a line chart; ``None`` y values are gaps (e.g. does not fit)."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    style: str = "-"
    color_key: int = 0


@dataclass(frozen=True)
class Chart:
    """Everything a chart shows, as plain data: what ``harness.report`` puts in its context."""

    name: str  # stable id, e.g. "context-deepseek-v3"
    kind: str  # "bars", "stacks", "lines"
    title: str
    unit: str = ""
    bars: tuple[Bar, ...] = ()
    stacks: tuple[Stack, ...] = ()
    lines: tuple[Line, ...] = ()
    xlabel: str = ""
    xlog2: bool = False
    caption: str = ""


def render_chart(chart: Chart) -> str:
    """The chart as an inline ``<svg>`` element."""
    draw = {"bars": _draw_bars, "stacks": _draw_stacks, "lines": _draw_lines}.get(chart.kind)
    if draw is None:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    with _figure(chart.name, _height(chart)) as fig:
        draw(fig, chart)
        svg = _svg(fig, chart.name)
    label = html.escape(chart.title + (f" ({chart.unit})" if chart.unit else ""), quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _height(chart: Chart) -> float:
    """Line charts the standard height; bar charts 0.2 in per bar plus axes and legend."""
    if chart.kind == "lines":
        return HEIGHT_IN
    rows = len(chart.bars) if chart.kind == "bars" else len({s.label for s in chart.stacks})
    return max(1.4, 0.9 + 0.21 * rows)


class _figure:
    """A fresh ``Figure`` inside an ``rc_context`` with the sheet's settings."""

    def __init__(self, name: str, height: float = HEIGHT_IN) -> None:
        self.name, self.height = name, height

    def __enter__(self):  # noqa: ANN204 (matplotlib Figure)
        import matplotlib
        from matplotlib.figure import Figure

        self._ctx = matplotlib.rc_context({
            "svg.fonttype": "none", "svg.hashsalt": f"moebench-{self.name}", "font.size": 7.5,
            "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
            "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
            "axes.labelcolor": "#333333", "xtick.color": "#444444", "ytick.color": "#444444",
            "legend.fontsize": 6.5, "legend.frameon": False, "path.simplify": True,
        })
        self._ctx.__enter__()
        return Figure(figsize=(WIDTH_IN, self.height), layout="constrained")

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


def _svg(fig, prefix: str) -> str:  # noqa: ANN001
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight",
                pad_inches=0.04)
    text = out.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)  # RDF boilerplate
    text = text[text.index("<svg"):].strip()
    # Inline in HTML the parser puts <svg> and xlink:href in their namespaces itself; dropping the
    # declarations leaves the page without a single URL in it.
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)
    return _prefix_ids(text, re.sub(r"[^A-Za-z0-9_-]", "-", prefix))


def _prefix_ids(svg: str, prefix: str) -> str:
    """Every id (and every reference to one) prefixed with the chart's name: matplotlib numbers
    ``figure_1``, ``axes_1``... afresh in each figure, and one page holds several."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return re.sub(r'((?:xlink:)?href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', svg)


def _draw_bars(fig, chart: Chart) -> None:  # noqa: ANN001
    ax = fig.add_subplot()
    bars = list(chart.bars)
    groups = list(dict.fromkeys(b.group for b in bars))
    colors = {g: _group_color(g, i) for i, g in enumerate(groups)}
    ys = list(range(len(bars)))[::-1]
    ax.barh(ys, [b.value for b in bars], color=[colors[b.group] for b in bars], height=0.7,
            hatch=None)
    top = max((b.value for b in bars), default=1.0) or 1.0
    for y, b in zip(ys, bars):
        text = _short(b.value) + (f"  {plain(b.note)}" if b.note else "")
        ax.text(b.value + top * 0.01, y, text, va="center", fontsize=6.5, color="#222222")
    ax.set_yticks(ys, [plain(b.label) for b in bars])
    ax.set_xlim(0, top * 1.32)
    ax.set_xlabel(plain(chart.unit))
    ax.tick_params(axis="y", length=0)
    if len(groups) > 1:
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(color=colors[g], label=plain(g)) for g in groups], loc="outside lower center",
                   ncol=min(4, len(groups)))


def _group_color(group: str, i: int) -> str:
    return {"theoretical": "#bbbbbb", "measured": "#0072B2", "GPU theoretical": "#9fd8c4",
            "GPU measured": "#009E73"}.get(group, PALETTE[i % len(PALETTE)])


def _draw_stacks(fig, chart: Chart) -> None:  # noqa: ANN001
    panels = list(dict.fromkeys(s.panel for s in chart.stacks))
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    labels = list(dict.fromkeys(s.label for s in chart.stacks))
    comps = list(dict.fromkeys(k for s in chart.stacks for k in s.parts))
    drawn: set[str] = set()
    for ax, panel in zip(axes, panels):
        stacks = {s.label: s for s in chart.stacks if s.panel == panel}
        _stack_panel(ax, labels, stacks, comps, drawn)
        if panel:
            ax.set_title(plain(panel), loc="left", fontsize=7.5)
        ax.set_xlabel(plain(chart.unit))
    axes[0].set_yticks(range(len(labels))[::-1], [plain(x) for x in labels])
    handles, names = [], []
    for ax in axes:
        for h, n in zip(*ax.get_legend_handles_labels()):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="outside lower center", ncol=min(5, len(names)), fontsize=6)


def _stack_panel(ax, labels: list[str], stacks: dict[str, Stack], comps: list[str],  # noqa: ANN001
                 drawn: set[str]) -> None:
    ys = dict(zip(labels, range(len(labels))[::-1]))
    limits = [s.limit for s in stacks.values() if s.limit]
    totals = [sum(s.parts.values()) for s in stacks.values()]
    cap = max(limits) * 1.35 if limits else max(totals, default=1.0) * 1.15
    cap = max(cap, 1e-9)
    for label, s in stacks.items():
        left = 0.0
        for i, comp in enumerate(comps):
            value = s.parts.get(comp, 0.0)
            if value <= 0:
                continue
            color = CLASS_COLORS.get(comp, PALETTE[i % len(PALETTE)])
            ax.barh(ys[label], value, left=left, color=color, height=0.62,
                    label=_nice(comp) if comp not in drawn else None)
            drawn.add(comp)
            left += value
        shown = min(left, cap)
        note = _short(left) + (" ▶" if left > cap else "") + (f" {plain(s.note)}" if s.note else "")
        ax.text(shown + cap * 0.015, ys[label], note, va="center", fontsize=6, color="#222222")
        if s.limit:
            ax.plot([s.limit, s.limit], [ys[label] - 0.42, ys[label] + 0.42], color="#D55E00",
                    linewidth=1.4)
    ax.set_xlim(0, cap * 1.25)
    ax.tick_params(axis="y", length=0)


def _draw_lines(fig, chart: Chart) -> None:  # noqa: ANN001
    ax = fig.add_subplot()
    for line in chart.lines:
        color = PALETTE[line.color_key % len(PALETTE)]
        xs, ys = list(line.xs), [math.nan if y is None else y for y in line.ys]
        if line.style == "o":  # points only (a scatter)
            ax.plot(xs, ys, color=color, marker="o", markersize=4, linestyle="none", label=plain(line.label))
        else:
            ax.plot(xs, ys, line.style, color=color, marker="o", markersize=2.6, linewidth=1.4,
                    label=plain(line.label))
    if chart.xlog2:
        ax.set_xscale("log", base=2)
        ticks = sorted({x for line in chart.lines for x in line.xs})
        ax.set_xticks(ticks, [_tick(x) for x in ticks])
        ax.minorticks_off()
    ax.set_ylim(bottom=0)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_ylabel(plain(chart.unit))
    ax.set_xlabel(plain(chart.xlabel))
    if chart.lines:
        ax.legend(loc="best", fontsize=6)


def _nice(name: str) -> str:
    return plain(name.replace("_", " "))


def plain(text: str) -> str:
    """A label drawn as typed: ``$`` would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _tick(x: float) -> str:
    if x >= 1024 and x % 1024 == 0:
        return f"{int(x // 1024)}k"
    return f"{x:g}"


def _short(value: float) -> str:
    """3 significant figures, no exponent: 1230, 45.6, 7.89, 0.123."""
    if value == 0 or not math.isfinite(value):
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{digits}f}"
