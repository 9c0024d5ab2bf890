"""``moebench validate --serving``: every published serving benchmark the simulator can take, run
and scored — output throughput, TPOT and TTFT against the measured figures — with the reason for
each row it cannot take."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.app.serve import serve_point
from harness.calibration.fitfile import default_engines
from harness.calibration.serving_rows import ServingCase, case_record, load_serving_cases, serving_path
from harness.errors import HarnessError
from harness.perf.batch import step_model
from harness.perf.engines import EngineSet
from harness.serving.scheduler import scheduler_for
from harness.serving.workload import Load
from harness.workload import load_model
from harness.workload.quant import parse_quant
from harness.workload.scenario import Scenario


def score_serving_case(case: ServingCase, engines: EngineSet) -> dict[str, Any]:
    """The simulated run of one row beside its measured figures."""
    sc = Scenario(model=load_model(case.model_id), quant=parse_quant(case.quant), engine=case.engine, placement="gpu",
                  context=case.input_len + case.output_len, prompt=case.input_len)
    step = step_model(case.machine, sc, engines)
    cfg = scheduler_for(step.engine.name, case.machine.gpus[0].memory_gb)
    load = Load(input_len=case.input_len, output_len=case.output_len, concurrency=case.concurrency, rate=case.rate,
                requests=case.requests, len_ratio=case.len_ratio)
    sim = serve_point(step, load, cfg)
    row: dict[str, Any] = {"id": case.id, "source": case.source, "engine": case.engine,
                           "engine_version": case.engine_version,
                           "load": f"c={case.concurrency}" if case.concurrency else f"burst of {case.requests}"}
    pairs = (("output_throughput", case.output_throughput, sim["output_throughput"]),
             ("tpot_ms", case.tpot_ms, sim[f"{case.tpot_stat}_tpot_ms"]),
             ("ttft_ms", case.ttft_ms, sim[f"{case.ttft_stat}_ttft_ms"]))
    for name, measured, predicted in pairs:
        row[f"measured_{name}"], row[f"predicted_{name}"] = measured, predicted
        row[f"ratio_{name}"] = predicted / measured if measured else None
    return row


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def ape(name: str) -> list[float]:
        return [abs(r[f"ratio_{name}"] - 1) for r in rows if r.get(f"ratio_{name}")]

    out: dict[str, Any] = {}
    for name in ("output_throughput", "tpot_ms"):
        errs = ape(name)
        out[f"{name}_mape_pct"] = 100 * statistics.fmean(errs) if errs else None
        out[f"{name}_median_ape_pct"] = 100 * statistics.median(errs) if errs else None
        out[f"{name}_count"] = len(errs)
    ttft = [r["ratio_ttft_ms"] for r in rows if r.get("ratio_ttft_ms")]
    out["ttft_within_2x"] = sum(1 for x in ttft if 0.5 <= x <= 2)
    out["ttft_count"] = len(ttft)
    return out


def validate_serving(path: Path | None = None, engines: EngineSet | None = None) -> dict[str, Any]:
    """Score every usable serving row. Nothing in the serving path is fitted on these rows, so the
    leave-one-source-out figures equal the in-sample ones; both are printed, per source as well."""
    engines = engines or default_engines()
    cases = load_serving_cases(path)
    rows, skipped = [], [case_record(c) for c in cases if not c.usable]
    for c in cases:
        if not c.usable:
            continue
        try:
            rows.append(score_serving_case(c, engines))
        except HarnessError as exc:
            skipped.append({"id": c.id, "source": c.source, "why": str(exc)})
    if not rows:
        raise HarnessError(f"no usable row in {path or serving_path()} (see the skipped reasons with --json)")
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_source[r["source"]].append(r)
    summary = _summary(rows)
    return {"rows": rows, "skipped": skipped, "count": len(rows), "in_sample": summary,
            "leave_one_source_out": summary | {"note": "no serving constant is fitted on these rows: the held-out "
                                                       "figures equal the in-sample ones"},
            "by_source": {s: _summary(rs) | {"rows": len(rs)} for s, rs in sorted(by_source.items())},
            "source": str(path or serving_path())}
