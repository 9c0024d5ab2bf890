"""Resolving a RUN argument (a ``result.json``, a run folder, or a run id or unique prefix in the
results store) and ``moebench report`` as a function: load the runs, render, write."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from harness.documents.result import Result, load_result
from harness.errors import HarnessError
from harness.report import default_html_path, render_outputs, write_output
from harness.store import open_store


def load_source(ref: str, store_url: str | None = None) -> Result:
    """The result a RUN argument names: a file, a run folder, or a run id in the store."""
    path = Path(ref)
    if path.exists():
        return load_result(path)
    if ref.endswith(".json") or "/" in ref or "\\" in ref:
        raise HarnessError(f"{ref}: no such file or folder — give a result.json, a run folder or a run id")
    return _load_from_store(ref, store_url)


def _load_from_store(ref: str, url: str | None) -> Result:
    try:
        with open_store(url, create=False) as store:
            return store.load_result(store.find_run(ref))
    except HarnessError as exc:
        raise HarnessError(f"{ref} is not a file or folder, and as a run id: {exc}") from None


def report_files(sources: Sequence[str], *, html: str | None = None, markdown: str | None = None,
                 csv: str | None = None, vendor: str | None = None, logo: Path | None = None,
                 store_url: str | None = None) -> dict[str, str]:
    """Load the runs, render and write; returns kind → path written (``-`` for stdout).

    With no target at all, the HTML goes to ``default_html_path``.
    """
    results = [load_source(s, store_url) for s in sources]
    want_html = html is not None or (markdown is None and csv is None)
    texts = render_outputs(results, html=want_html, markdown=markdown is not None, csv=csv is not None,
                           vendor=vendor, logo=logo)
    targets = {"html": html or str(default_html_path(sources, results)), "markdown": markdown, "csv": csv}
    return {kind: write_output(str(targets[kind]), text) for kind, text in texts.items()}
