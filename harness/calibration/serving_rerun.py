"""The leave-one-source-out folds already rerun with the shipped serving constants (the folds file
``fit_serving`` saves as it goes), reported beside the fit file's earlier folds while those are an
earlier model's: a run of every fold takes hours on two cores."""

from __future__ import annotations

import json
from typing import Any

from harness.calibration.fit_serving import folds_path, summary


def rerun_folds(fitted: dict[str, Any]) -> dict[str, Any] | None:
    """Where the fit file's folds are an earlier model's (``leave_one_source_out_from``) and some folds
    of the shipped constants on the shipped rows are finished (``serving_fit_folds.json``): their
    sources, their figures, and the same rows' figures in the earlier folds (None otherwise)."""
    if not fitted.get("leave_one_source_out_from"):
        return None
    values = {k: v["value"] for k, v in fitted["parameters"].items()}
    try:
        doc = json.loads(folds_path().read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if doc.get("constants") != values or doc.get("rows_used") != fitted.get("rows_used") or not doc.get("folds"):
        return None
    fresh = [r for rows in doc["folds"].values() for r in rows]
    earlier = {r["id"]: r for r in fitted.get("leave_one_source_out_rows", [])}
    return {"sources": sorted(doc["folds"]), "of_sources": len({r["source"] for r in earlier.values()}),
            "mape": summary(fresh), "earlier_folds_same_rows": summary([earlier[r["id"]] for r in fresh if r["id"] in earlier])}
