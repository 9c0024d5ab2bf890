"""pandas views of a store, for notebooks: one row per run, or one row per sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.store.core import open_store

if TYPE_CHECKING:
    import pandas as pd

TAG_PREFIX = "tag."


def load_runs(url: str | None = None, **tags: str) -> "pd.DataFrame":
    """One row per run matching ``tags``: run facts, ``tag.<key>`` columns, one column per metric.

    Metric columns hold the median of the run's samples (the value a prediction has), so
    ``df.plot(x="started_at", y="stream_triad")`` works straight away.
    """
    import pandas as pd

    with open_store(url, create=False) as store:
        runs = store.runs(tags)
        metrics = store.metrics(r.run_id for r in runs)
    rows = []
    for run in runs:
        row = {"run_id": run.run_id, "started_at": run.started_at,
               "harness_version": run.harness_version, "machine": run.machine_name,
               "fingerprint": run.fingerprint}
        row.update({TAG_PREFIX + k: v for k, v in run.tags.items()})
        row.update({m.name: m.value for m in metrics[run.run_id]})
        rows.append(row)
    columns = ["run_id", "started_at", "harness_version", "machine", "fingerprint"]
    frame = pd.DataFrame(rows, columns=None if rows else columns)
    if rows:
        frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    return frame


def load_samples(url: str | None = None, **tags: str) -> "pd.DataFrame":
    """Long form: run_id, metric, unit, kind, sample (index), value — every stored sample."""
    import pandas as pd

    with open_store(url, create=False) as store:
        runs = store.runs(tags)
        metrics = store.metrics(r.run_id for r in runs)
    rows = [{"run_id": run_id, "metric": m.name, "unit": m.unit, "kind": m.kind,
             "sample": i, "value": v}
            for run_id, records in metrics.items() for m in records
            for i, v in enumerate(m.samples)]
    return pd.DataFrame(rows, columns=["run_id", "metric", "unit", "kind", "sample", "value"])
