"""The jinja2 environment (autoescape on, strict undefined, the registered filters) and the step
that turns a context's chart data into inline SVG just before laying it out."""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

import jinja2

from harness.report.charts import Chart, render_chart
from harness.report._format import FILTERS

ChartRenderer = Callable[[Chart], str]


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates from ``reports/templates``; every ``{{ }}`` is HTML-escaped unless marked safe."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True,
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.filters["md"] = escape_markdown
    return env


@functools.lru_cache(maxsize=1)
def text_environment() -> jinja2.Environment:
    """For Markdown: no HTML escaping, cells escaped with the ``md`` filter instead."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(FILTERS)
    env.filters["md"] = escape_markdown
    return env


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]|#"}
                            | {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": " ", "\r": " "})


def escape_markdown(value: Any) -> str:
    """Text safe inside a Markdown table cell: markup characters backslash-escaped, HTML as
    entities (a backslash would not stop ``<`` inside a code span), no line breaks."""
    return str(value).translate(_MD_SPECIAL)


def with_svgs(context: Mapping[str, Any], renderer: ChartRenderer = render_chart) -> dict[str, Any]:
    """The context plus ``svgs``: chart name → inline ``<svg>`` (trusted: drawn by matplotlib,
    which escapes every label it writes)."""
    out = dict(context)
    out["svgs"] = {c.name: renderer(c) for c in context.get("charts", [])}
    out["titles"] = {c.name: c.title for c in context.get("charts", [])}
    return out


def render(template: str, context: Mapping[str, Any], renderer: ChartRenderer = render_chart) -> str:
    return environment().get_template(template).render(**with_svgs(context, renderer))
