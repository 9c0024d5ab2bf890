"""``moebench validate``: predict every calibration row and score it against the measurement.

Prints predicted vs measured, per-row error, MAPE, and the MAPE of the naive rule of thumb
(peak bandwidth ÷ activated bytes) beside it, so users see how much the model adds.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from harness.calibration.fitfile import default_engines
from harness.calibration.rows import holdout_path, load_cases
from harness.calibration.score import RowScore, aggregate_rows, mape, score_case
from harness.errors import HarnessError
from harness.perf.engines import EngineSet


def _source_name(path: Path | None) -> str:
    if path is None:
        return "calibration set (harness/data/calibration/measurements.csv)"
    if Path(path).resolve() == holdout_path().resolve():
        return "held-out set (harness/data/calibration/holdout.csv, never fitted on)"
    return str(path)


def validate(path: Path | None = None, engines: EngineSet | None = None) -> dict[str, Any]:
    """Score every usable calibration row (or every row of a user's CSV in the same format at
    ``path``); list the unusable ones with the reason."""
    engines = engines or default_engines()
    cases = load_cases(path)
    rows: list[RowScore] = []
    skipped = [{"id": c.id, "why": c.why_not} for c in cases if not c.usable]
    for c in cases:
        if not c.usable:
            continue
        try:
            score = score_case(c, engines)
        except HarnessError as exc:  # a user's row the model cannot take (an impossible context, ...)
            skipped.append({"id": c.id, "why": str(exc)})
            continue
        if score.predicted > 0 and score.fits:
            rows.append(score)
        else:
            skipped.append({"id": c.id, "why": "the model and its KV cache do not fit that machine at the row's "
                                                "context and batch, so there is no speed to compare"})
    if not rows:
        raise HarnessError(f"no usable row in {path or 'the calibration set'} — each row needs a catalog model, "
                           "a quant, a decode tok/s and its machine's memory (see the skipped reasons with --json)"
                           if path is None else
                           f"no usable row in {path}: {skipped[0]['id']}: {skipped[0]['why']}")
    rot = [r for r in rows if r.rule_of_thumb]
    return {
        "rows": [r.to_dict() for r in rows],
        "mape_pct": mape(r.error for r in rows),
        "median_ape_pct": 100 * statistics.median(abs(r.error) for r in rows) if rows else float("nan"),
        "rule_of_thumb_mape_pct": mape(r.rule_of_thumb / r.measured - 1 for r in rot),
        "within_1_5x": sum(1 for r in rows if 1 / 1.5 <= r.ratio <= 1.5),
        "prefill_mape_pct": mape(r.predicted_prefill / r.measured_prefill - 1 for r in rows
                                 if r.measured_prefill and r.predicted_prefill),
        "prefill_count": sum(1 for r in rows if r.measured_prefill and r.predicted_prefill),
        "count": len(rows),
        "skipped": skipped,
        "aggregate_rows": aggregate_rows(cases, engines),
        "source": _source_name(path),
    }
