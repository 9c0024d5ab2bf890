"""``moebench history`` from the store: the runs matching some tags and their metrics, as a
``History`` (``harness.analysis.history``)."""

from __future__ import annotations

from typing import Mapping, Sequence

from harness.analysis.compare import DEFAULT_THRESHOLD
from harness.analysis.history import History, build_history, check_history_options
from harness.store import open_store


def load_history(url: str | None = None, tags: Mapping[str, str] | None = None,
                 patterns: Sequence[str] = (), threshold: float = DEFAULT_THRESHOLD) -> History:
    """The history of the runs matching ``tags`` in the store at ``url`` (which must exist:
    reading never creates a store)."""
    check_history_options(patterns, threshold)
    with open_store(url, create=False) as store:
        runs = store.runs(tags)
        metrics = store.metrics(r.run_id for r in runs)
    return build_history(runs, metrics, patterns, threshold)
