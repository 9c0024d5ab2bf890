"""What ``compare`` and ``check`` do around the pure detector: resolve each side to samples.

A side is a run id (or unique prefix), a result.json file or run directory, or a tag selector
``k=v[,k=v...]`` that pools the samples of every matching run. In a selector the keys
``fingerprint`` (a prefix) and ``machine`` (the machine name) match the run's hardware instead of
its tags. The store is opened only when a side needs it, so comparing two files touches no
database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from harness.app.api import check_out_dir
from harness.app.run import run_benchmark
from harness.analysis.compare import DEFAULT_ALPHA, DEFAULT_THRESHOLD, Comparison, compare_samples
from harness.errors import HarnessError
from harness.documents.result import Result, parse_tags
from harness.store.core import Store, open_store
from harness.store.fingerprint import fingerprint
from harness.store.results import MetricRecord, load_result_file, result_metrics

log = logging.getLogger("moebench.store")

RunBenchmark = Callable[..., Mapping[str, Any]]
_SPECIAL_KEYS = ("fingerprint", "machine")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: where it came from and its pooled samples per metric."""

    label: str
    run_ids: tuple[str, ...]
    samples: dict[str, list[float]] = field(default_factory=dict)
    fingerprints: frozenset[str] = frozenset()


def parse_selector(selector: str) -> dict[str, str]:
    """``"bios=A,nps=4"`` -> ``{"bios": "A", "nps": "4"}`` (tag rules from ``harness.documents.result``)."""
    return parse_tags([p for p in selector.split(",") if p.strip()])


def pool(records_per_run: Iterable[Iterable[MetricRecord]]) -> dict[str, list[float]]:
    """All samples of each metric over several runs, in run order."""
    pooled: dict[str, list[float]] = {}
    for records in records_per_run:
        for r in records:
            pooled.setdefault(r.name, []).extend(r.samples)
    return pooled


def side_from_result(result: Result, label: str) -> Side:
    """One run's samples; its hardware is the stored fingerprint (computed from the record if none)."""
    record = result.machine
    return Side(label, (result.run_id,), pool([result_metrics(result, label)]),
                frozenset([record.fingerprint or fingerprint(record.raw)]))


def _side_from_tags(selector: str, store: Store) -> Side:
    wanted = parse_selector(selector)
    special = {k: wanted.pop(k) for k in _SPECIAL_KEYS if k in wanted}
    runs = store.runs(wanted, **special)
    if not runs:
        raise HarnessError(f"no run matches {selector!r} in the store; "
                           "`moebench history` lists runs and their tags")
    if len({r.fingerprint for r in runs}) > 1:
        log.warning("%s pools runs from %d different machines (add fingerprint=... to narrow it)",
                    selector, len({r.fingerprint for r in runs}))
    metrics = store.metrics(r.run_id for r in runs)
    return Side(selector, tuple(r.run_id for r in runs), pool(metrics[r.run_id] for r in runs),
                frozenset(r.fingerprint or "" for r in runs))


def resolve_side(selector: str, store: Callable[[], Store]) -> Side:
    """The samples a selector stands for; ``store`` is called only if the store is needed."""
    path = Path(selector)
    if path.exists():
        return side_from_result(load_result_file(path), selector)
    if selector.endswith(".json") or "/" in selector:
        raise HarnessError(f"no such file: {selector}")
    if "=" in selector:
        return _side_from_tags(selector, store())
    return _side_from_run(selector, store())


def _side_from_run(ref: str, store: Store) -> Side:
    run_id = store.find_run(ref)
    runs = store.runs(run_id=run_id)  # empty if its row is broken (skipped with a warning)
    records = store.metrics([run_id])[run_id]
    return Side(f"run {run_id[:12]}", (run_id,), pool([records]),
                frozenset(r.fingerprint or "" for r in runs))


class _LazyStore:
    """Opens the store on first use, closes it on exit. ``create``: whether a missing SQLite
    file may be created (a reader refuses one, see ``open_store``)."""

    def __init__(self, url: str | None, *, create: bool = False) -> None:
        self.url, self.create, self._store = url, create, None

    def __call__(self) -> Store:
        if self._store is None:
            self._store = open_store(self.url, create=self.create)
        return self._store

    def __enter__(self) -> "_LazyStore":
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._store is not None:
            self._store.close()


def hardware_notes(base: Side, cand: Side) -> tuple[str, ...]:
    """Say so when the sides ran on different hardware (intended for a DIMM swap, else a trap)."""
    if not base.fingerprints or not cand.fingerprints or base.fingerprints == cand.fingerprints:
        return ()
    def names(side: Side) -> str:
        return "/".join(sorted(f[:8] for f in side.fingerprints))
    return (f"the sides ran on different hardware (fingerprint {names(base)} vs {names(cand)})",)


def _comparison(base: Side, cand: Side, threshold: float, alpha: float) -> Comparison:
    changes = compare_samples(base.samples, cand.samples, threshold=threshold, alpha=alpha)
    return Comparison(base.label, cand.label, base.run_ids, cand.run_ids, changes, threshold, alpha,
                      hardware_notes(base, cand))


def compare_selectors(base: str, cand: str, *, url: str | None = None,
                      threshold: float = DEFAULT_THRESHOLD,
                      alpha: float = DEFAULT_ALPHA) -> Comparison:
    """Compare two sides given as run ids, result files or tag selectors."""
    with _LazyStore(url, create=False) as store:
        return _comparison(resolve_side(base, store), resolve_side(cand, store), threshold, alpha)


def _default_runner() -> RunBenchmark:
    return run_benchmark


def run_check(baseline: str, *, url: str | None = None, quick: bool = True,
              tags: Mapping[str, str] | None = None, out_dir: str | Path | None = None,
              threshold: float = DEFAULT_THRESHOLD, alpha: float = DEFAULT_ALPHA,
              run: RunBenchmark | None = None) -> tuple[str, Comparison]:
    """Run the benchmark, store the result, compare it with ``baseline``: the CI gate.

    Everything that can be refused is refused before the benchmark runs and before any file is
    written: ``out_dir``, then the baseline (a typo fails in a second rather than after a full
    run; a run id or tag baseline needs a store that exists), then the store itself, opened and
    created here if new. A tag baseline never pools the new run itself. ``run`` defaults to
    ``harness.app.run.run_benchmark``; tests pass a function returning a result dict.
    """
    if out_dir is not None:
        check_out_dir(out_dir)
    with _LazyStore(url, create=False) as store:
        base = resolve_side(baseline, store)
        store.create = True
        store()  # a bad --store fails here, before probing and before --out is written
        runner = run or _default_runner()
        result = Result.from_json(runner(quick=quick, tags=dict(tags or {}), out_dir=out_dir), "result")
        run_id = store().save(result)
        cand = side_from_result(result, f"run {run_id[:12]}")
        return run_id, _comparison(base, cand, threshold, alpha)
