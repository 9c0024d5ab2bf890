"""Fit the serving constants on the published serving rows and write ``harness/data/serving_fit.json``.

    python -m harness.calibration.fit_serving [--cold | --rescore]

(``--cold`` fits from the neutral constants instead of the shipped ones; ``--only A,B`` moves those
constants alone from the shipped ones, a cheap first stage when the model gains a sparse constant
that a full refit would walk to in many sweeps; ``--rescore`` keeps the
shipped constants and recomputes the scores, leave-one-source-out included; ``--keep-folds`` keeps the
last fit's leave-one-source-out figures, marked as not rerun. Each finished fold is saved in
``serving_fit_folds.json`` beside the fit file, and a run with the same constants on the same rows —
``--rescore`` after an interrupted one — carries on from there.)

Eleven constants, each for a mechanism the step-time model does not hold, fitted together (Huber loss
on log(simulated / measured) of output throughput, TPOT and TTFT over every usable row):
- ``request_latency_s``: time from a request's send to the scheduler (HTTP, tokenising, queues);
- ``prefill_scale``: prefill compute time of one node (tensor parallel, or data-parallel attention
  within the node) relative to the GEMM share the engine profile gives (that share is derived from
  DeepSeek's multi-node expert-parallel cluster, whose steps keep it);
- ``prefill_token_us``: prefill time per prompt token on one GPU beyond its FLOPs, for DeepSeek-V3's
  activations (other models in proportion to layers x hidden size; shared by a tensor-parallel
  replica's GPUs): the part of prefill that does not speed up with a GPU's FLOP/s
  (normalisation, routing, permutation, kernel launches, collectives), which keeps a compute-poor GPU
  such as the H20 from prefilling as slowly as its FLOP/s alone would say;
- ``early_sglang_scale`` / ``early_vllm_scale``: the whole step of an early-2025 build of SGLang / vLLM
  relative to the model (each engine's own: at 4 users on the same 8x MI300X, dstack measured vLLM
  0.7.3's TPOT 1.3x SGLang 0.4.2's, where one early factor for both put it at 1.9x);
- ``pre_mla_vllm_scale``: a vLLM build before 0.7.1 on an MLA model relative to the later early
  builds (0.7.1 brought MLA kernels and DeepSeek's FP8 kernel work; with one factor for 0.7.0 and
  0.7.3 alike, the fold without dstack's 0.7.3 sweep read it off the 0.7.0 row, and predicted that
  sweep's TPOT 2.4-3.2x too long);
- ``current_tp_scale``: the tensor-parallel floor of current SGLang builds relative to the one
  derived from vLLM's July 2025 figure (every usable current-era row is SGLang); the engine profiles
  carry it (``fitfile.default_engines``), so ``predict`` and ``serve`` agree;
- ``ep_overlap``: the share of the shorter of an expert-parallel rank's computation and its
  all-to-all that two micro-batches hide;
- ``seq_overhead_us``: per decoding request beyond the first, per step (scheduling, sampling and
  output processing the GPU waits on; one request's share is in the batch-1 floors already);
- ``rocm_floor_scale``: vLLM's and SGLang's per-step GPU floors on AMD GPUs relative to CUDA's (ROCm's
  kernel launches and collectives; current and early builds alike); the engine profiles carry it, like
  the tensor-parallel scale;
- ``early_rocm_scale``: the whole step of an early-2025 build on AMD GPUs relative to the same build's
  on NVIDIA's, so that an early build's slowdown is not read off AMD rows alone: the early factors above
  are bound by early builds on H200 and the ROCm one by dstack's MI300X sweep (it fitted at 0.94: the
  early slowdown was not ROCm's).
Prefill-node rows (input tokens/s of one prefill node) are scored too, on the saturated prefill rate.
Leave-one-source-out: each source group's rows are predicted by constants fitted without them; a
constant no other source binds (the early ROCm factor without dstack's sweep) is neutral in that fold.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.calibration.fitfile import raw_engines, with_serving_scales
from harness.calibration.serving_constants import (BOUNDS, MAX_REQUESTS, NEUTRAL, SERVING_ENGINES,  # noqa: F401
                                                   ServingConstants, ServingSetup, case_pre_mla, case_step,
                                                   default_serving_constants, engine_scheduler, fit_path,
                                                   prefill_node_rate, ratios, run_case, serving_setup)
from harness.calibration.serving_rows import ServingCase, load_serving_cases
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text
from harness.hardware.gpu_sheet import is_amd
from harness.perf.ep_batch import EpStepModel
from harness.serving.deployment import Deployment
from harness.serving.eras import CURRENT, EARLY

SCHEMA_VERSION = 1
HUBER = math.log(1.5)


def _huber(x: float) -> float:
    a = abs(x)
    return 0.5 * a * a if a <= HUBER else HUBER * (a - 0.5 * HUBER)


Cases = Sequence[ServingCase]


@lru_cache(maxsize=64)
def _steps(tp_scale: float, rocm_scale: float, ids: tuple[str, ...]) -> tuple[Deployment, ...]:
    engines = with_serving_scales(raw_engines(), tp_scale, rocm_scale)
    by_id = {c.id: c for c in _usable_cases()}
    return tuple(case_step(by_id[i], engines) for i in ids)


def _pairs(values: dict[str, float], cases: Cases) -> list[tuple[ServingCase, Deployment]]:
    return list(zip(cases, _steps(values["current_tp_scale"], values["rocm_floor_scale"], tuple(c.id for c in cases))))


def relevant(case: ServingCase, dep: Deployment) -> tuple[str, ...]:
    """The constants a row's simulation reads: an engine without serving constants reads none, the
    early-era factor only its own engine's early rows, the overlap only expert-parallel steps, the ROCm
    scale only AMD GPUs (``tests/test_serving_fit.py`` checks that the others leave a row unchanged)."""
    if case.engine not in SERVING_ENGINES:
        return ()
    names = ["request_latency_s", "prefill_scale", "prefill_token_us", "seq_overhead_us", "current_tp_scale"]
    if case.era == EARLY:
        names.append("early_vllm_scale" if case.engine == "vllm" else "early_sglang_scale")
        if _pre_mla(case):
            names.append("pre_mla_vllm_scale")
    if any(isinstance(s, EpStepModel) for s in (dep.decode, dep.prefill)):
        names.append("ep_overlap")
    if case.machine and case.machine.gpus and is_amd(case.machine.gpus[0].model):
        names += ["rocm_floor_scale"] + (["early_rocm_scale"] if case.era == EARLY else [])
    return tuple(names)


@lru_cache(maxsize=None)
def _relevant_of(case_id: str) -> tuple[str, ...]:
    case = next(c for c in _usable_cases() if c.id == case_id)
    return relevant(case, case_step(case, raw_engines()))  # the layout, whatever the scales


def _key(case: ServingCase, values: dict[str, float]) -> tuple[Any, ...]:
    return (case.id, *((n, values[n]) for n in _relevant_of(case.id)))


def row_ratios(values: dict[str, float], ids: tuple[str, ...]) -> list[dict[str, float]]:
    """Each row's simulated / measured ratios at these constants (by id: a worker process loads the
    rows itself)."""
    by_id = {c.id: c for c in _usable_cases()}
    cases = [by_id[i] for i in ids]
    k = ServingConstants(**values)
    return [ratios(c, run_case(c, s, k)) for c, s in _pairs(values, cases)]


def _row_loss(r: dict[str, float]) -> float:
    return sum(_huber(math.log(max(x, 1e-9))) for x in r.values())


def loss(values: dict[str, float], cases: Cases) -> float:
    return sum(_row_loss(r) for r in row_ratios(values, tuple(c.id for c in cases)))


def fit(cases: Cases, start: dict[str, float] | None = None, sweeps: int = 8, step: float = 0.5,
        objective: Callable[[dict[str, float], Cases], float] = loss,
        log: Callable[[str], None] | None = None, only: Sequence[str] | None = None) -> dict[str, float]:
    """Coordinate descent in log space (latency and the per-token terms in linear steps), inside the
    bounds, from ``start`` with moves of ``step`` (halved for a constant whenever neither direction
    helps); ``only``: move these constants and hold the others."""
    values = dict(start or NEUTRAL)
    best = objective(values, cases)
    steps = {k: step for k in values if only is None or k in only}
    for sweep in range(sweeps):
        improved = False
        for name, (lo, hi) in BOUNDS.items():
            if name not in steps:
                continue
            for direction in (+1, -1):
                trial = dict(values)
                if name == "request_latency_s":
                    trial[name] = min(hi, max(lo, values[name] + direction * 0.1 * steps[name]))
                elif name in ("seq_overhead_us", "prefill_token_us"):  # from zero: linear steps of up to 50 µs
                    trial[name] = min(hi, max(lo, values[name] + direction * 100 * steps[name]))
                else:
                    trial[name] = min(hi, max(lo, values[name] * math.exp(direction * steps[name])))
                val = objective(trial, cases)
                if val < best - 1e-9:
                    values, best, improved = trial, val, True
                    break
            else:
                steps[name] *= 0.5
        if log:
            log(f"sweep {sweep + 1}: loss {best:.3f}")
        if not improved and max(steps.values()) < 0.02:
            break
    return {k: float(f"{v:.2g}") for k, v in values.items()}


class RowCache:
    """Each row's ratios by the values of the constants it reads, shared by the fit and its folds: a
    trial that moves one sparse constant reruns only the rows it binds, and a fold reruns nothing where
    it walks another's path. Rows missing from the cache are dealt
    round-robin to the pool's workers; the loss is the same sum ``loss`` gives."""

    def __init__(self, pool: Executor | None, workers: int) -> None:
        self.pool, self.workers, self.table = pool, workers, {}
        self.simulated = 0

    def ratios(self, values: dict[str, float], cases: Cases) -> list[dict[str, float]]:
        keys = [_key(c, values) for c in cases]
        missing = list(dict.fromkeys(i for i, k in enumerate(keys) if k not in self.table))
        ids = [cases[i].id for i in missing]
        if ids:
            chunks = [tuple(ids[j::self.workers]) for j in range(self.workers)]
            chunks = [c for c in chunks if c]
            mapper = self.pool.map if self.pool and len(chunks) > 1 else map
            for chunk, got in zip(chunks, mapper(row_ratios, [values] * len(chunks), chunks)):
                by_id = dict(zip(chunk, got))
                for i in missing:
                    if cases[i].id in by_id:
                        self.table[keys[i]] = by_id[cases[i].id]
            self.simulated += len(ids)
        return [self.table[k] for k in keys]

    def loss(self, values: dict[str, float], cases: Cases) -> float:
        return sum(_row_loss(r) for r in self.ratios(values, cases))


def warm_start(path: Path | None = None) -> dict[str, float] | None:
    """The shipped constants: a refit after a small model change then starts near its optimum
    (``--cold`` starts from the neutral constants). A constant the model gained since starts neutral;
    a file that is missing, unreadable or holds none of today's constants gives None."""
    try:
        params = json.loads((path or fit_path()).read_text("utf-8"))["parameters"]
        values = {k: float(params[k]["value"]) for k in BOUNDS if k in params}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not values:
        return None
    return {k: min(BOUNDS[k][1], max(BOUNDS[k][0], values.get(k, NEUTRAL[k]))) for k in BOUNDS}


def scores(cases: Cases, values: dict[str, float], cache: RowCache | None = None) -> list[dict[str, Any]]:
    got = cache.ratios(values, cases) if cache else row_ratios(values, tuple(c.id for c in cases))
    return [{"id": c.id, "source": c.source, **r} for c, r in zip(cases, got)]


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def ape(name: str) -> list[float]:
        return [abs(r[name] - 1) for r in rows if name in r]

    out: dict[str, Any] = {}
    for name in ("output_throughput", "tpot_ms"):
        errs = ape(name)
        out[f"{name}_mape_pct"] = round(100 * statistics.fmean(errs), 1) if errs else None
        out[f"{name}_median_ape_pct"] = round(100 * statistics.median(errs), 1) if errs else None
    ttft = [r["ttft_ms"] for r in rows if "ttft_ms" in r]
    out["ttft_within_2x"] = sum(1 for x in ttft if 0.5 <= x <= 2)
    out["ttft_count"] = len(ttft)
    prefill = ape("input_throughput")
    out["prefill_input_throughput_mape_pct"] = round(100 * statistics.fmean(prefill), 1) if prefill else None
    out["prefill_count"] = len(prefill)
    out["rows"] = len(rows)
    return out


@lru_cache(maxsize=1)
def _usable_cases() -> tuple[ServingCase, ...]:
    """The rows the simulator can run (with the raw profiles)."""
    out = []
    for c in load_serving_cases():
        # scored, never fitted: a row that leaves its engine or quant unstated, or one kept as a check
        if not c.usable or c.assumptions or c.held_out:
            continue
        try:
            run_case(c, case_step(c, raw_engines()), ServingConstants())
        except HarnessError:
            continue
        out.append(c)
    return tuple(out)


def _pre_mla(case: ServingCase) -> bool:
    return case_pre_mla(case.model_id, case.engine, case.engine_version)


# What a row must be for it to bind each sparse constant (the others bind on nearly every row).
_BINDS: dict[str, Callable[[ServingCase], bool]] = {
    "early_sglang_scale": lambda c: c.era == EARLY and c.engine == "sglang",
    "early_vllm_scale": lambda c: c.era == EARLY and c.engine == "vllm",
    "rocm_floor_scale": lambda c: c.engine in ("vllm", "sglang") and bool(c.machine and c.machine.gpus)
    and is_amd(c.machine.gpus[0].model),
    "early_rocm_scale": lambda c: c.era == EARLY and c.engine in ("vllm", "sglang") and bool(c.machine and c.machine.gpus)
    and is_amd(c.machine.gpus[0].model),
    "pre_mla_vllm_scale": lambda c: c.era == EARLY and _pre_mla(c),
    "ep_overlap": lambda c: c.expert_parallel,
    "current_tp_scale": lambda c: c.era == CURRENT and c.engine == "sglang" and not c.expert_parallel,
}


def uninformed(cases: Cases) -> list[str]:
    """The sparse constants no row here binds (no early-2025 row, say, for the early-era factors)."""
    return [name for name, binds in _BINDS.items() if not any(binds(c) for c in cases)]


def _fold(source: str, start: dict[str, float], cache: RowCache) -> list[dict[str, Any]]:
    """One leave-one-source-out fold: the source's rows scored by constants fitted on the others. A
    constant the other sources do not bind goes back to its neutral value (the fit warm-starts from
    the full fit, which the left-out rows informed)."""
    cases = list(_usable_cases())
    train = [c for c in cases if c.source != source]
    # three sweeps of moves from x1.28 down: a fold can move a constant up to about x2 from the full fit
    # (a constant only the left-out source binds goes back to neutral below); even so a fold takes
    # 15-20 minutes on two cores, since folds part from each other's paths early
    values = fit(train, start=start, sweeps=3, step=0.25, objective=cache.loss)
    values |= {name: NEUTRAL[name] for name in uninformed(train)}
    return scores([c for c in cases if c.source == source], values, cache)


def folds_path() -> Path:
    """The folds finished so far by a run that has not written its fit file yet (a run is hours on two
    cores: an interrupted one, run again with the same constants, carries on from here)."""
    return fit_path().with_name("serving_fit_folds.json")


def _done_folds(values: dict[str, float], cases: Cases) -> dict[str, list[dict[str, Any]]]:
    """The finished folds of a run with these constants on these rows (none if the file is another run's)."""
    try:
        doc = json.loads(folds_path().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if doc.get("constants") != values or doc.get("rows_used") != [c.id for c in cases]:
        return {}
    return dict(doc.get("folds", {}))


def _save_folds(values: dict[str, float], cases: Cases, done: dict[str, list[dict[str, Any]]]) -> None:
    doc = {"constants": values, "rows_used": [c.id for c in cases], "folds": done}
    atomic_write_text(folds_path(), json.dumps(doc, indent=1) + "\n")


def _only(args: list[str]) -> list[str] | None:
    """The constants ``--only A,B`` names (None without it)."""
    if "--only" not in args:
        return None
    i = args.index("--only")
    names = args[i + 1].split(",") if i + 1 < len(args) else []
    unknown = [n for n in names if n not in BOUNDS]
    if not names or unknown:
        raise SystemExit(f"--only takes constants from {', '.join(BOUNDS)}; got {','.join(unknown or names)}")
    return names


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cases = list(_usable_cases())
    start = None if "--cold" in args else warm_start()
    rescore = "--rescore" in args and start is not None  # keep the shipped constants, redo the scores
    # refit the constants and the in-sample figures but keep the last fit's leave-one-source-out figures,
    # marked as such (the folds take hours on two cores); a full run replaces them
    keep_folds = "--keep-folds" in args
    only = _only(args)
    print(f"{len(cases)} usable rows; " + ("scoring the shipped constants" if rescore else
          f"fitting from the {'shipped' if start else 'neutral'} constants"), file=sys.stderr)
    loso: list[dict[str, Any]] = []
    sources = sorted({c.source for c in cases})
    workers = max(1, min(len(sources), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:  # the rows of one loss dealt to the cores
        cache = RowCache(pool, workers)
        # twelve sweeps: from the shipped constants a constant the model gained can still move x4.5
        def log(text: str) -> None:
            print(f"  {text} ({cache.simulated} row simulations)", file=sys.stderr, flush=True)
        values = dict(start) if rescore and start else fit(cases, start=start, step=0.125 if start else 0.5,
                                                           sweeps=12, objective=cache.loss, log=log, only=only)
        print(f"constants: {json.dumps(values)} ({cache.simulated} row simulations)", file=sys.stderr)
        done = _done_folds(values, cases) if not keep_folds else {}
        for source in [] if keep_folds else sources:
            if source in done:  # a fold an interrupted run of these constants on these rows finished
                rows = done[source]
            else:
                rows = _fold(source, values, cache)
                done[source] = rows
                _save_folds(values, cases, done)
            print(f"left out {source} ({len(rows)} rows; {cache.simulated} row simulations so far)", file=sys.stderr)
            loso += rows
        in_sample, neutral = scores(cases, values, cache), scores(cases, dict(NEUTRAL), cache)
    previous = json.loads(fit_path().read_text("utf-8")) if keep_folds else {}
    stale = None
    if keep_folds:
        loso = previous["leave_one_source_out_rows"]
        stale = previous.get("leave_one_source_out_from") or (
            f"the fit of {len(previous['rows_used'])} rows with constants "
            f"{json.dumps({k: v['value'] for k, v in previous['parameters'].items()})}; its folds were not rerun")
        if previous.get("leave_one_source_out_from") and len(previous["rows_used"]) != len(cases):
            stale += f"; nor for the refit of {len(cases)} rows with constants {json.dumps(values)}"
    doc = {
        "schema_version": SCHEMA_VERSION, "generated_by": "python -m harness.calibration.fit_serving",
        "parameters": {name: {"value": v, "status": "fitted", "bounds": list(BOUNDS[name])} for name, v in values.items()},
        "rows_used": [c.id for c in cases], "max_requests_per_row": MAX_REQUESTS,
        "loss": round(cache.loss(values, cases), 4),
        "mape": {"neutral": summary(neutral), "in_sample": summary(in_sample),
                 "leave_one_source_out": summary(loso)},
        # set when the folds were not rerun (--keep-folds): the earlier fit they come from
        **({"leave_one_source_out_from": stale} if stale else {}),
        # each row's simulated / measured ratios in its leave-one-source-out fold
        "leave_one_source_out_rows": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                                      for r in loso],
    }
    atomic_write_text(fit_path(), json.dumps(doc, indent=1) + "\n")
    if not keep_folds:
        folds_path().unlink(missing_ok=True)  # every fold is in the fit file now
    print(json.dumps(doc["parameters"]), json.dumps(doc["mape"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
