"""Fit the engine profiles on the calibration rows and write ``harness/data/engine_fit.json``.

    python -m harness.calibration.fit            # fit, score, write the file
    python -m harness.calibration.fit --check    # fit and say whether the shipped file is what it gives

Parameters are tied across engines that share kernels (``harness.calibration.profiles``), so there
are far fewer constants than rows. The loss is a Huber loss on log(predicted / measured), squared
within ×1.5 and linear beyond (robust to the few rows no bandwidth model explains). Coordinate
descent with shrinking multiplicative steps, in bounds, from the previous fit's values (a warm
start; bound midpoints when there is none) and from a few extra starting points for constants whose
loss is flat until they bind; the best result wins. Derived constants are recomputed from the
fitted ones, then prefill constants are fitted on the rows' prefill columns. The file also records
the rows used, the loss, and the decode MAPE in sample, 5-fold cross-validated and on the held-out
rows (which no fit reads).
"""

from __future__ import annotations

import itertools
import math
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.calibration.derive import DERIVE_FUNCTIONS
from harness.calibration.fitfile import FIT_SCHEMA_VERSION, engines_from_fit, fit_path, load_fit, save_fit
from harness.calibration.profiles import (DECODE_PARAMS, DERIVED, ENGINE_ORDER, EXTRA_STARTS, FIXED, KIN,
                                          PREFILL_PARAMS, Param)
from harness.calibration.rows import CalibrationCase, holdout_path
from harness.calibration.score import score_case, usable_cases
from harness.errors import HarnessError
from harness.perf.engines import NUMERIC_FIELDS, EngineSet

Values = dict[str, float]
HUBER_DELTA = math.log(1.5)
CV_FOLDS = 5


def huber(x: float) -> float:
    """Squared inside ×1.5 (balances the errors of rows that fit), linear beyond (rows that no
    bandwidth model explains do not drag the rest)."""
    a = abs(x)
    return 0.5 * a * a if a <= HUBER_DELTA else HUBER_DELTA * (a - 0.5 * HUBER_DELTA)


def with_values(engines: EngineSet, params: dict[str, Param], values: Values) -> EngineSet:
    """The engine set with each parameter's value put into every engine that shares it."""
    changed = {name: engines[name] for name in engines}
    for key, p in params.items():
        for e in p.engines:
            changed[e] = replace(changed[e], **{p.field: values[key]})
    return EngineSet(changed)


def values_of(engines: EngineSet, params: dict[str, Param]) -> Values:
    return {key: getattr(engines[p.engines[0]], p.field) for key, p in params.items()}


def decode_loss(engines: EngineSet, cases: Sequence[CalibrationCase]) -> float:
    return sum(huber(math.log(max(r.predicted, 1e-9) / r.measured)) for r in (score_case(c, engines) for c in cases))


def prefill_loss(engines: EngineSet, cases: Sequence[CalibrationCase]) -> float:
    total = 0.0
    for c in cases:
        r = score_case(c, engines)
        if r.measured_prefill and r.predicted_prefill:
            total += huber(math.log(r.predicted_prefill / r.measured_prefill))
    return total


Loss = Callable[[EngineSet, Sequence[CalibrationCase]], float]


def descend(base: EngineSet, params: dict[str, Param], start: Values, cases: Sequence[CalibrationCase],
            loss: Loss, sweeps: int = 40) -> Values:
    """Coordinate descent from ``start``: each parameter tries a step up and down (a quarter of its
    range times its step share); a step that fails shrinks the share by 0.6."""
    values = dict(start)
    best = loss(with_values(base, params, values), cases)
    steps = {k: 0.5 for k in values}
    for _ in range(sweeps):
        improved = False
        for name, p in params.items():
            for direction in (+1, -1):
                trial = dict(values)
                trial[name] = min(p.upper, max(p.lower, values[name] + direction * (p.upper - p.lower) * steps[name] * 0.25))
                val = loss(with_values(base, params, trial), cases)
                if val < best - 1e-9:
                    values, best, improved = trial, val, True
                    break
            else:
                steps[name] *= 0.6
        if not improved and max(steps.values()) < 1e-3:
            break
    return values


def starts_for(params: dict[str, Param], warm: Values) -> list[Values]:
    """The warm start, and the warm start with each combination of the extra starting points."""
    names = [n for n in EXTRA_STARTS if n in params]
    return [warm] + [warm | dict(zip(names, combo)) for combo in itertools.product(*(EXTRA_STARTS[n] for n in names))]


def fit(base: EngineSet, params: dict[str, Param], cases: Sequence[CalibrationCase], loss: Loss,
        starts: list[Values] | None = None) -> Values:
    """The best descent over the starting points, rounded to each parameter's precision."""
    best_values, best_loss = None, math.inf
    for start in starts or starts_for(params, values_of(base, params)):
        values = descend(base, params, start, cases, loss)
        val = loss(with_values(base, params, values), cases)
        if val < best_loss:
            best_values, best_loss = values, val
    return {k: params[k].round(v) for k, v in best_values.items()}


def derive(engines: EngineSet) -> Values:
    """Every derived constant, computed from the engines' other values and rounded."""
    return {key: d.round(DERIVE_FUNCTIONS[key](engines)) for key, d in DERIVED.items()}


def apply_derived(engines: EngineSet, values: Values) -> EngineSet:
    changed = dict(engines)
    for key, d in DERIVED.items():
        for e in d.engines:
            changed[e] = replace(changed[e], **{d.field: values[key]})
    return EngineSet(changed)


def fit_all(base: EngineSet, cases: Sequence[CalibrationCase], progress: Callable[[str], None] = lambda s: None
            ) -> EngineSet:
    """Decode constants and derived ones until the derived ones stop moving, then prefill."""
    engines = base
    for _ in range(3):
        progress("fitting decode constants")
        engines = with_values(engines, DECODE_PARAMS, fit(engines, DECODE_PARAMS, cases, decode_loss))
        derived = derive(engines)
        before = {k: getattr(engines[DERIVED[k].engines[0]], DERIVED[k].field) for k in DERIVED}
        engines = apply_derived(engines, derived)
        if derived == before:
            break
    progress("fitting prefill constants")
    return apply_kin(with_values(engines, PREFILL_PARAMS, fit(engines, PREFILL_PARAMS, cases, prefill_loss)))


def apply_kin(engines: EngineSet) -> EngineSet:
    """Engines without rows of their own take their kindred engine's fitted fields (``KIN``)."""
    changed = dict(engines)
    for e, (kin, fields, _) in KIN.items():
        changed[e] = replace(changed[e], **{f: getattr(engines[kin], f) for f in fields})
    return EngineSet(changed)


def mape_of(engines: EngineSet, cases: Sequence[CalibrationCase]) -> dict[str, float]:
    errs = [abs(r.error) for r in (score_case(c, engines) for c in cases) if r.predicted > 0 and r.fits]
    return {"mape_pct": round(100 * statistics.fmean(errs), 2), "median_ape_pct": round(100 * statistics.median(errs), 2),
            "rows": len(errs)}


def cross_validate(engines: EngineSet, cases: Sequence[CalibrationCase], folds: int = CV_FOLDS) -> dict[str, float]:
    """Decode MAPE of each row predicted by constants fitted without its fold (rows dealt to folds in
    file order; each fold's fit is one descent warm-started from the full fit)."""
    errs: list[float] = []
    for k in range(folds):
        train = [c for i, c in enumerate(cases) if i % folds != k]
        test = [c for i, c in enumerate(cases) if i % folds == k]
        values = descend(engines, DECODE_PARAMS, values_of(engines, DECODE_PARAMS), train, decode_loss)
        fold = with_values(engines, DECODE_PARAMS, values)
        errs += [abs(r.error) for r in (score_case(c, fold) for c in test) if r.predicted > 0 and r.fits]
    return {"mape_pct": round(100 * statistics.fmean(errs), 2), "median_ape_pct": round(100 * statistics.median(errs), 2),
            "rows": len(errs), "folds": folds, "method": f"{folds}-fold, rows dealt in file order, warm-started"}


def neutral_base() -> EngineSet:
    """Profiles at bound midpoints (fitted), their fixed values, and no derived penalty: the start
    when there is no previous fit."""
    doc: dict[str, Any] = {"engines": {e: {f: {"value": 0.0, "status": "unused"} for f in NUMERIC_FIELDS}
                                       for e in ENGINE_ORDER}}
    eng = doc["engines"]
    for params in (DECODE_PARAMS, PREFILL_PARAMS):
        for p in params.values():
            for e in p.engines:
                eng[e][p.field] = {"value": (p.lower + p.upper) / 2, "status": "fitted"}
    for d in DERIVED.values():
        for e in d.engines:
            eng[e][d.field] = {"value": 1.0 if d.field.endswith("frac") else 0.0, "status": "derived"}
    for e, fields in FIXED.items():
        for f, fx in fields.items():
            eng[e][f] = {"value": fx.value, "status": fx.status}
    for e, (kin, fields, _) in KIN.items():
        for f in fields:
            eng[e][f] = {**eng[kin][f], "status": "placeholder"}
    return engines_from_fit(doc)


def field_record(engine: str, fld: str, value: float) -> dict[str, Any]:
    """Value, status and where it comes from, for one engine's field."""
    if engine in KIN and fld in KIN[engine][1]:
        return {"value": value, "status": "placeholder", "source": KIN[engine][2]}
    for params in (DECODE_PARAMS, PREFILL_PARAMS):
        for key, p in params.items():
            if engine in p.engines and p.field == fld:
                return {"value": value, "status": "fitted", "parameter": key}
    for key, d in DERIVED.items():
        if engine in d.engines and d.field == fld:
            return {"value": value, "status": "derived", "parameter": key, "source": d.source}
    fx = FIXED.get(engine, {}).get(fld)
    if fx is None:
        raise HarnessError(f"engine {engine} field {fld} is neither fitted, derived nor fixed in the profile tables")
    return {"value": fx.value, "status": fx.status, "source": fx.why}


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def rows_used(cases: Sequence[CalibrationCase]) -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for c in cases:
        used.setdefault(c.engine, []).append(c.id)
    return used


def fit_document(engines: EngineSet, cases: Sequence[CalibrationCase], holdout: Sequence[CalibrationCase],
                 cv: dict[str, Any] | None) -> dict[str, Any]:
    """What the fitter writes: values with status and source, rows, loss and errors."""
    params = {key: {"value": getattr(engines[p.engines[0]], p.field), "status": "fitted", "engines": list(p.engines),
                    "field": p.field, "bounds": [p.lower, p.upper], "kind": kind, **({"why": p.why} if p.why else {})}
              for kind, table in (("decode", DECODE_PARAMS), ("prefill", PREFILL_PARAMS)) for key, p in table.items()}
    params |= {key: {"value": getattr(engines[d.engines[0]], d.field), "status": "derived", "engines": list(d.engines),
                     "field": d.field, "source": d.source} for key, d in DERIVED.items()}
    return {
        "schema_version": FIT_SCHEMA_VERSION,
        "generated_by": "python -m harness.calibration.fit",
        "git_commit": git_commit(),
        "loss": {"decode": round(decode_loss(engines, cases), 4), "prefill": round(prefill_loss(engines, cases), 4),
                 "kind": "Huber on log(predicted / measured), delta log(1.5)"},
        "mape": {"in_sample": mape_of(engines, cases), "cross_validated": cv,
                 "held_out": mape_of(engines, holdout) if holdout else None},
        "rows_used": rows_used(cases),
        "parameters": params,
        "engines": {e: {f: field_record(e, f, getattr(engines[e], f)) for f in NUMERIC_FIELDS} for e in ENGINE_ORDER},
    }


def engine_values(doc: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {e: {f: r["value"] for f, r in fields.items()} for e, fields in doc["engines"].items()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check, skip_cv = "--check" in argv, "--no-cv" in argv
    try:
        base = engines_from_fit(load_fit())
    except HarnessError:
        base = neutral_base()
    cases = usable_cases()
    engines = fit_all(base, cases, progress=lambda s: print(s, file=sys.stderr))
    cv = None if skip_cv or check else cross_validate(engines, cases)
    doc = fit_document(engines, cases, usable_cases(holdout_path()), cv)
    if check:
        same = engine_values(doc) == engine_values(load_fit())
        print("engine_fit.json is what the fitter gives" if same else "engine_fit.json differs from the fit: rerun "
              "`python -m harness.calibration.fit`")
        return 0 if same else 1
    path = save_fit(doc, fit_path())
    m = doc["mape"]
    print(f"wrote {path}: decode MAPE in sample {m['in_sample']['mape_pct']}%"
          + (f", cross-validated {cv['mape_pct']}%" if cv else "")
          + (f", held out {m['held_out']['mape_pct']}%" if m["held_out"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
