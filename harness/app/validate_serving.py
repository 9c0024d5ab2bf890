"""``moebench validate --serving``: every published serving benchmark the simulator can take, run
with the shipped serving constants and scored — output throughput, TPOT and TTFT against the
measured figures — beside the leave-one-source-out figures of the last fit, and the reason for each
row it cannot take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.calibration.fit_serving import (MAX_REQUESTS, case_step, default_serving_constants, fit_path, ratios,
                                             run_case, summary)
from harness.calibration.serving_rerun import rerun_folds
from harness.calibration.fitfile import default_engines
from harness.calibration.serving_rows import case_record, load_serving_cases, serving_path
from harness.errors import HarnessError


def validate_serving(path: Path | None = None) -> dict[str, Any]:
    """Score every usable serving row (each with the row's own request count, as in the fit)."""
    engines, k = default_engines(), default_serving_constants()
    cases = load_serving_cases(path)
    rows, skipped = [], [case_record(c) for c in cases if not c.usable]
    for c in cases:
        if not c.usable:
            continue
        try:
            sim = run_case(c, case_step(c, engines), k)
        except HarnessError as exc:
            skipped.append({"id": c.id, "source": c.source, "why": str(exc)})
            continue
        r = ratios(c, sim)
        common = {"id": c.id, "source": c.source, "engine": c.engine, "engine_version": c.engine_version,
                  "era": c.era, "assumptions": list(c.assumptions)}
        if c.input_throughput is not None:  # a prefill node's input tokens/s
            rows.append(common | {"load": f"prefill of {c.input_len}", "measured_input_throughput": c.input_throughput,
                                  "predicted_input_throughput": sim["input_throughput"],
                                  "ratio_input_throughput": r["input_throughput"],
                                  **{f"ratio_{n}": None for n in ("output_throughput", "tpot_ms", "ttft_ms")}})
            continue
        rows.append(common | {
                     "load": f"c={c.concurrency}" if c.concurrency else (
                         f"burst of {min(c.requests, MAX_REQUESTS)}" if c.rate == float("inf") else f"{c.rate:g} req/s"),
                     **{f"measured_{n}": m for n, m in (("output_throughput", c.output_throughput),
                                                        ("tpot_ms", c.tpot_ms), ("ttft_ms", c.ttft_ms))},
                     "predicted_output_throughput": sim["output_throughput"],
                     "predicted_tpot_ms": sim[f"{c.tpot_stat}_tpot_ms"], "predicted_ttft_ms": sim[f"{c.ttft_stat}_ttft_ms"],
                     **{f"ratio_{n}": r.get(n) for n in ("output_throughput", "tpot_ms", "ttft_ms")}})
    if not rows:
        raise HarnessError(f"no usable row in {path or serving_path()} (see the skipped reasons with --json)")
    fitted = json.loads(fit_path().read_text("utf-8"))
    read = set(fitted.get("rows_used", ()))
    for r in rows:
        r["in_fit"] = r["id"] in read
    plain = [{"source": r["source"], "in_fit": r["in_fit"],
              **{n: r[f"ratio_{n}"] for n in ("output_throughput", "tpot_ms", "ttft_ms", "input_throughput")
                 if r.get(f"ratio_{n}") is not None}} for r in rows]
    inside, outside = [r for r in plain if r["in_fit"]], [r for r in plain if not r["in_fit"]]
    return {"rows": rows, "skipped": skipped, "count": len(rows),
            # in sample: rows the shipped constants were fitted on; out of sample: rows they never read
            "in_sample": summary(inside) if inside else None,
            "out_of_sample": summary(outside) if outside else None,
            "leave_one_source_out": fitted["mape"]["leave_one_source_out"] | {
                "note": "each shipped source's rows predicted by constants fitted without them (from the last "
                        "`python -m harness.calibration.fit_serving`" + (
                            f"; NOT rerun since the model changed: these folds are {fitted['leave_one_source_out_from']}"
                            if fitted.get("leave_one_source_out_from") else "") + ")"},
            # folds already rerun with the shipped constants, while the headline's are an earlier model's
            "leave_one_source_out_rerun": rerun_folds(fitted),
            "constants": {n: v["value"] for n, v in fitted["parameters"].items()},
            "source": str(path or serving_path())}
