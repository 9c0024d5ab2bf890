"""Moving runs between result.json files and a store (``moebench import`` / ``export``)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from harness.errors import HarnessError
from harness.fsutil import atomic_write_text
from harness.store.core import open_store
from harness.store.results import expand_paths, load_result_file

log = logging.getLogger("moebench.store")


@dataclass
class ImportReport:
    """What an import did, file by file."""

    added: list[str] = field(default_factory=list)  # run ids
    present: list[str] = field(default_factory=list)  # run ids already in the store
    skipped: list[str] = field(default_factory=list)  # "path: reason"

    def summary(self) -> str:
        return (f"imported {len(self.added)} run(s), {len(self.present)} already present, "
                f"{len(self.skipped)} file(s) skipped")


def check_out_file(path: Path, option: str) -> Path:
    """A file ``path`` that can be written: not a folder, not under a file (nothing created)."""
    path = Path(path)
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise HarnessError(f"{option} {str(path)!r} is not a file name — give a path such as out/x.json")
    if path.is_dir():
        raise HarnessError(f"{option} {path} is a directory — give a file name")
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise HarnessError(f"{option} {path}: {blocker} is a file, not a folder — choose another path")
    return path


def import_results(paths: Iterable[str | Path], url: str | None = None) -> ImportReport:
    """Store every result file under ``paths``; broken files are skipped with a warning."""
    report = ImportReport()
    files = expand_paths(paths)
    with open_store(url, create=True) as store:
        for path in files:
            try:
                result = load_result_file(path)
                existed = store.has_run(result["run_id"])
                run_id = store.save(result)
            except HarnessError as exc:
                log.warning("skipped %s", exc)
                report.skipped.append(str(exc))
                continue
            (report.present if existed else report.added).append(run_id)
    return report


def export_run(ref: str, out: str | Path, url: str | None = None) -> Path:
    """Write the stored result of run ``ref`` (id or unique prefix) to ``out`` as result.json."""
    out = Path(out)
    if out.is_dir():
        out = out / "result.json"
    check_out_file(out, "--out")
    with open_store(url, create=False) as store:
        document = store.load_result(store.find_run(ref))
    atomic_write_text(out, json.dumps(document.to_json(), indent=2, sort_keys=True) + "\n")
    return out
