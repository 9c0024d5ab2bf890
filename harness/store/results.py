"""What the store keeps of a result: its metrics as long-table rows; and tolerant file scans.

Checking and migrating a document is ``harness.documents.result.Result.from_json``'s job, done
once. A scan over many files skips a broken one with a warning instead of aborting, as asv's
``iter_results`` does.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, Iterable, Iterator, Mapping

from harness.errors import HarnessError
from harness.metrics import get_metric, prediction_metric_name
from harness.documents.result import SCHEMA_VERSION as RESULT_SCHEMA_VERSION  # noqa: F401 (re-exported)
from harness.documents.result import PredictionRecord, ProbeRecord, Result, load_result

log = logging.getLogger("moebench.store")

MAX_NAME = 255  # metrics.name column width
PREDICTED = ("decode_tokens_per_s", "prefill_tokens_per_s", "ttft_s")


@dataclass(frozen=True)
class MetricRecord:
    """One metric of one run: its samples (a prediction has exactly one)."""

    name: str
    unit: str
    kind: str  # "probe" or "prediction"
    samples: tuple[float, ...]
    best: float | None = None

    @property
    def value(self) -> float:
        return median(self.samples)


def check_result(result: Any, source: str = "result") -> Result:
    """The document as a checked ``Result`` (HarnessError if unusable)."""
    return Result.from_json(result, source)


def _samples(values: Any) -> tuple[float, ...] | None:
    if not isinstance(values, (list, tuple)) or not values:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    floats = tuple(float(v) for v in values)
    # every metric is a rate, a size or a time: a negative one is a damaged file, not a regression
    return floats if all(math.isfinite(v) and v >= 0 for v in floats) else None


def _probe_record(name: str, probe: ProbeRecord, source: str) -> MetricRecord | None:
    samples = _samples(list(probe.samples))
    if samples is None and probe.median is not None:
        samples = _samples([probe.median])
    if samples is None:
        log.warning("%s: probe %r has no usable samples; skipped", source, name)
        return None
    unit = str(probe.unit or get_metric(name).unit)[:32]
    return MetricRecord(name, unit, "probe", samples, probe.best)


def _prediction_records(pred: PredictionRecord, source: str) -> list[MetricRecord]:
    inputs = pred.inputs
    if not all(inputs.get(k) for k in ("model", "quant")):
        log.warning("%s: a prediction without model/quant inputs; skipped", source)
        return []
    records = []
    for metric in PREDICTED:
        samples = _samples([getattr(pred, metric)])
        if samples is not None:
            name = prediction_metric_name(str(inputs["model"]), str(inputs["quant"]),
                                          str(inputs.get("placement") or "auto"), metric)
            records.append(MetricRecord(name, get_metric(metric).unit, "prediction", samples))
    return records


def result_metrics(result: Result | Mapping[str, Any], source: str = "result") -> list[MetricRecord]:
    """Every probe and predicted figure of a result, as long-table rows (first one wins a name).
    A document not yet checked is read leniently: an unusable figure is skipped with a warning."""
    if isinstance(result, Result):
        probes, predictions = result.probes, result.predictions
    else:
        raw = result.get("probes")
        probes = {str(n): ProbeRecord.from_json(str(n), p) for n, p in (raw if isinstance(raw, Mapping) else {}).items()
                  if isinstance(p, Mapping)}
        predictions = tuple(PredictionRecord.from_json(p) for p in result.get("predictions") or []
                            if isinstance(p, Mapping) and isinstance(p.get("inputs", {}), Mapping))
    found: dict[str, MetricRecord] = {}
    candidates = [_probe_record(n, p, source) for n, p in probes.items()]
    for pred in predictions:
        candidates.extend(_prediction_records(pred, source))
    for record in candidates:
        if record is not None and len(record.name) > MAX_NAME:
            log.warning("%s: metric name %.40s... is over %d characters; skipped", source,
                        record.name, MAX_NAME)
        elif record is not None and record.name not in found:
            found[record.name] = record
    return list(found.values())


def load_result_file(path: str | Path) -> Result:
    """One result.json (or a run directory holding one), checked; HarnessError when unusable."""
    return load_result(Path(path))


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; directories searched recursively for ``*.json``."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.json")))
        elif p.exists():
            out.append(p)
        else:
            raise HarnessError(f"no such file or directory: {p}")
    return out


def iter_result_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Result]]:
    """(path, document) for every readable result; broken ones are skipped with a warning."""
    for path in expand_paths(paths):
        try:
            yield path, load_result_file(path)
        except HarnessError as exc:
            log.warning("skipped %s", exc)
