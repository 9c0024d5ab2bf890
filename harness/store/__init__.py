"""Results store: runs and a long table of metrics in SQLite (default) or PostgreSQL.

Public API (also what the CLI uses)::
    save_result(result, url=None) -> run_id        open_store(url, create=True) -> Store
    load_runs(url=None, **tags) -> DataFrame        load_samples(url=None, **tags) -> DataFrame
    fingerprint(machine_dict) -> str                import_results(paths, url=...)

Comparing stored runs and the CI gate (``compare_selectors``, ``run_check``) are
``harness.app.check``: the store keeps runs, it does not run the benchmark.

``url`` None means ``$MOEBENCH_STORE``, else a SQLite file in the user data directory. Readers
(history, export, compare, the DataFrame views) refuse a SQLite file that does not exist;
writers (save, import, check) create it.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.store._engine import ENV_VAR, default_url, display_url, resolve_url
from harness.store.core import RunInfo, Store, open_store, parse_time
from harness.store.fingerprint import fingerprint, identity
from harness.store.frames import load_runs, load_samples
from harness.store.io import ImportReport, export_run, import_results
from harness.store.results import (RESULT_SCHEMA_VERSION, MetricRecord, check_result,
                                   iter_result_files, load_result_file, result_metrics)

STORE_HELP = ("Results store: a SQLite file path or an SQLAlchemy URL (postgresql://user@host/db). "
              "Default: $MOEBENCH_STORE, else results.sqlite in the user data directory.")


def save_result(result: Mapping[str, Any], url: str | None = None) -> str:
    """Store one result document and return its run id (idempotent per run id); a new SQLite
    store file is created."""
    with open_store(url, create=True) as store:
        return store.save(result)


__all__ = [
    "ENV_VAR", "STORE_HELP", "ImportReport", "MetricRecord", "RESULT_SCHEMA_VERSION", "RunInfo", "Side",
    "Store", "check_result", "default_url", "display_url", "export_run",
    "fingerprint", "identity", "import_results", "iter_result_files", "load_result_file",
    "load_runs", "load_samples", "open_store", "parse_time", "resolve_url", "result_metrics", "save_result",
]
