"""The spec sheet's context: plain data built from a result (and curves recomputed by ``predict``).

Every number is formatted here by the registered formatters (``_format``); the template only lays
the context out. Charts are ``harness.report.charts.Chart`` data; they become SVG at render time, so the
context can be golden-tested without pinning matplotlib's output.
"""

from __future__ import annotations
from dataclasses import dataclass
from typing import Any, Mapping, Sequence
from harness import __version__
from harness.documents.result import PredictionRecord, Result
from harness.hardware.machine import Machine
from harness.report.charts import Chart, Line, Stack
from harness.errors import HarnessError
from harness.report import _curves as curves
from harness.report._machine import (_bandwidth_chart, _cpu_line, _gpu_lines, _hardware, _memory_line,  # noqa: F401
                                     _onoff, _probe_rows, _reproducibility, _theoretical, _when, dimm_summary,
                                     grouped_gpus)
from harness.report._format import (
    DASH, format_bool, format_bytes, format_gb, format_gbs, format_money, format_pct,
    format_seconds, format_sig, format_tokens, format_tps,
)


GB = 1e9


PLACEMENT_ORDER = {"cpu": 0, "hybrid": 1, "gpu": 2, "multi-node": 3}


MAX_CURVE_CONFIGS = 4  # lines on the context chart


MAX_BATCH_CONFIGS = 2  # configurations on the concurrency chart (two lines each)


@dataclass(frozen=True)
class Logo:
    """A vendor logo, already read and checked at the edge (``_sources.load_logo``)."""

    mime: str
    data_uri: str


def build_context(result: Result | Mapping[str, Any], *, vendor: str | None = None, logo: Logo | None = None,
                  predict_fn: curves.PredictFn | None = None,
                  upgrade_fn: curves.UpgradeFn | None | str = "auto",
                  generated_at: str | None = None, serve_fn: curves.ServeFn | None = None) -> dict[str, Any]:
    """Everything the spec-sheet template shows, numbers formatted, charts as data. A mapping is
    checked as a result.json is (``Result.from_json``). The concurrency chart comes from the serving
    simulator (``serve_fn``); a caller that substitutes the predictor and no simulator gets the
    concurrency curve of that predictor instead (the golden tests pin the layout that way)."""
    result = Result.from_json(result, "result")
    machine, system = result.machine.machine, result.machine.system
    predictions = list(result.predictions)
    if serve_fn is None and predict_fn is None:
        serve_fn = curves.default_serve()
    predict_fn = predict_fn or curves.default_predict()
    upgrade = curves.default_upgrades() if upgrade_fn == "auto" else upgrade_fn
    models = [_model_section(mid, preds, result, predict_fn, upgrade, serve_fn)
              for mid, preds in _by_model(predictions).items()]
    charts = [_bandwidth_chart(machine, result.probes)]
    for m in models:
        charts += m.pop("_charts")
    return {
        "title": f"{machine.name or 'machine'} — moebench spec sheet",
        "vendor": vendor, "logo": logo.data_uri if logo else None,
        "machine_name": machine.name or "unnamed machine",
        "subtitle": _subtitle(models),
        "run": _run_info(result, generated_at),
        "tags": sorted((str(k), str(v)) for k, v in result.tags.items()),
        "key_figures": _key_figures(machine, predictions),
        "hardware": _hardware(result.machine),
        "probes": _probe_rows(result.probes),
        "bandwidth_chart": charts[0].name if charts[0].bars else None,
        "models": models,
        "reproducibility": _reproducibility(result),
        "missing": sorted((str(k), str(v)) for k, v in (system.get("missing") or {}).items()),
        "notes": [str(n) for n in machine.notes],
        "report_version": __version__,
        "charts": charts,
    }


# ---------------------------------------------------------------- header and hardware

def _run_info(result: Result, generated_at: str | None) -> dict[str, str]:
    run_id = str(result.run_id or "")
    return {"id": run_id or DASH, "short": run_id[:12] or DASH,
            "started": _when(result.started_at), "finished": _when(result.finished_at),
            "harness_version": str(result.harness_version or DASH),
            "report_version": __version__, "generated": generated_at or DASH}


def _subtitle(models: Sequence[Mapping[str, Any]]) -> str:
    names = ", ".join(m["title"] for m in models) or "no model predicted"
    return f"Predicted MoE decode performance: {names}"


def _key_figures(machine: Machine, predictions: Sequence[PredictionRecord]) -> list[dict[str, str]]:
    figures = []
    best = _best(predictions)
    if best:
        figures.append({"label": "Best decode, batch 1", "value": format_tps(best.decode_tokens_per_s),
                        "note": f"{_config_label(best, model=True)} · {best.engine or DASH}"})
    elif predictions:
        smallest = min(predictions, key=lambda p: _need(p) or float("inf"))
        figures.append({"label": "Best decode, batch 1", "value": "does not fit",
                        "note": f"{_config_label(smallest, model=True)} needs {_fit_detail(smallest.capacity)}"})
    theo, meas = _theoretical(machine), machine.measured_bandwidth_gbs
    if meas or theo:
        figures.append({"label": "Host memory bandwidth" + ("" if meas else " (theoretical)"),
                        "value": format_gbs(meas or theo),
                        "note": f"{format_pct(meas / theo)} of {format_gbs(theo)} peak" if meas and theo else
                        ("STREAM triad, all cores" if meas else "not measured")})
    figures.append({"label": "Memory", "value": format_gb(machine.capacity_gb),
                    "note": _memory_line(machine).split(" · ", 1)[-1] if machine.memory_type else ""})
    gpus = grouped_gpus(machine)
    n = sum(g.count for g in gpus)
    vram = sum(g.count * (g.memory_gb or 0) for g in gpus if not g.unified_memory)
    figures.append({"label": "GPUs", "value": str(n) if n else "none",
                    "note": f"{format_gb(vram)} · {gpus[0].model}" if n and vram else
                    (str(gpus[0].model) if n else "CPU only")})
    cost = _cost(best) if best else {}
    if cost.get("cost_per_million_tokens") is not None:
        figures.append({"label": "Cost per 1M tokens", "value": format_money(cost["cost_per_million_tokens"], cost.get("currency")),
                        "note": _config_label(best, model=True)})
    return figures


def _cost(p: PredictionRecord) -> Mapping[str, Any]:
    """The stored cost figures (``harness.perf.sensitivity.cost``); empty when the run had no price."""
    return p.cost or {}


def _need(p: PredictionRecord) -> float | None:
    cap = p.capacity
    needs = [cap[k] for k in ("host_needed_bytes", "gpu_needed_bytes") if isinstance(cap.get(k), (int, float))]
    return sum(needs) if needs else None


def _best(predictions: Sequence[PredictionRecord]) -> PredictionRecord | None:
    fitting = [p for p in predictions if p.fits and p.decode_tokens_per_s]
    return max(fitting, key=lambda p: p.decode_tokens_per_s or 0.0, default=None)


# ---------------------------------------------------------------- per model

def _by_model(predictions: Sequence[PredictionRecord]) -> dict[str, list[PredictionRecord]]:
    out: dict[str, list[PredictionRecord]] = {}
    for p in predictions:
        out.setdefault(str(p.model or "unknown model"), []).append(p)
    for preds in out.values():
        preds.sort(key=lambda p: (str(p.quant), PLACEMENT_ORDER.get(str(p.placement), 9)))
    return out


def _placement(p: PredictionRecord) -> str | None:
    return p.placement or p.inputs.get("placement")


def _config_label(p: PredictionRecord, model: bool = False) -> str:
    parts = ([str(p.model)] if model else []) + [str(p.quant or "?"), str(_placement(p) or "?")]
    return " · ".join(parts)


def _model_section(model_id: str, preds: Sequence[PredictionRecord], result: Result,
                   predict_fn: curves.PredictFn, upgrade_fn: curves.UpgradeFn | None,
                   serve_fn: curves.ServeFn | None = None) -> dict[str, Any]:
    slug = "".join(c if c.isalnum() else "-" for c in model_id.lower())
    section: dict[str, Any] = {
        "id": model_id, "slug": slug, "title": model_id, "facts": _model_facts(model_id, preds),
        "rows": [_prediction_row(p) for p in preds],
        "has_cost": any(_cost(p).get("cost_per_million_tokens") is not None for p in preds),
        "currency": next((str(_cost(p)["currency"]) for p in preds if _cost(p).get("currency")), ""),
        "users_target": next((format_sig(p.users_at_target.get("target_tokens_per_s")) for p in preds
                              if p.users_at_target is not None), ""),
        "time_rows": _time_rows(preds),
        "assumptions": _assumptions(preds),
        "charts": {}, "curve_note": "", "upgrades": None,
    }
    charts = []
    mem = _memory_chart(f"memory-{slug}", preds)
    if mem.stacks:
        charts.append(mem)
        section["charts"]["memory"] = mem.name
    tim = _time_chart(f"time-{slug}", preds)
    if tim.stacks:
        charts.append(tim)
        section["charts"]["time"] = tim.name
    curve_charts, note, upgrades = _curve_charts(slug, preds, result, predict_fn, upgrade_fn, serve_fn)
    for c in curve_charts:
        charts.append(c)
        section["charts"][c.name.split("-", 1)[0]] = c.name
    section["curve_note"] = note
    section["upgrades"] = upgrades
    section["_charts"] = charts
    return section


def _model_facts(model_id: str, preds: Sequence[PredictionRecord]) -> str:
    inputs = preds[0].inputs if preds else {}
    bits = []
    try:
        shape = curves.catalog_model(model_id)
        bits.append(f"{shape.total_params / 1e9:,.0f}B total, {shape.active_total / 1e9:,.1f}B activated per token")
        if shape.n_routed_experts:
            bits.append(f"{shape.n_routed_experts} routed experts, {shape.experts_per_token} per token")
    except HarnessError:  # a model this moebench does not know only loses this line
        pass
    if inputs.get("context") is not None:
        bits.append(f"table at context {format_tokens(inputs['context'])}, "
                    f"prompt {format_tokens(inputs.get('prompt'))}, batch {inputs.get('batch', 1)}")
    return " · ".join(bits)


def _prediction_row(p: PredictionRecord) -> dict[str, Any]:
    cap, cost = p.capacity, _cost(p)
    return {
        "quant": str(p.quant or DASH), "placement": str(_placement(p) or DASH),
        "engine": str(p.engine or p.inputs.get("engine") or DASH),
        "decode": format_sig(p.decode_tokens_per_s), "prefill": format_sig(p.prefill_tokens_per_s),
        "ttft": format_seconds(p.ttft_s), "fits": p.fits,
        "fit_text": format_bool(p.fits, "fits", "does not fit"),
        "fit_detail": _fit_detail(cap),
        "bottleneck": str(p.bottleneck or DASH),
        "max_context": format_tokens(cap["max_context"]) if cap.get("max_context") else DASH,
        "max_batch": str(cap["max_batch"]) if cap.get("max_batch") else DASH,
        "tps_per_10k": format_sig(cost.get("tokens_per_s_per_10k")) if cost else DASH,
        "cost_per_m": format_money(cost.get("cost_per_million_tokens"), cost.get("currency")) if cost else DASH,
        "users": _users(p.users_at_target),
    }


def _users(users: Any) -> str:
    """Concurrent users who each still get the target speed: ``12``, ``4096+`` at the search cap, and
    the simulated TTFT there (median / P99) when the serving simulator found them."""
    if not isinstance(users, Mapping) or users.get("max_users") is None:
        return DASH
    text = f"{users['max_users']}" + ("+" if users.get("capped_at_search_limit") else "")
    if users.get("max_users") and users.get("median_ttft_ms") is not None and users.get("p99_ttft_ms") is not None:
        text += f" (TTFT {format_seconds(users['median_ttft_ms'] / 1000)} / {format_seconds(users['p99_ttft_ms'] / 1000)})"
    return text


def _fit_detail(cap: Mapping[str, Any]) -> str:
    """``GPU needs 673.4 GB of 30.9 GB usable`` for the side that does not fit, else the tighter one."""
    sides = []
    for dev, name in (("gpu", "GPU"), ("host", "host")):
        need, usable = cap.get(f"{dev}_needed_bytes"), cap.get(f"{dev}_usable_bytes")
        if need and usable is not None:
            sides.append((cap.get(f"{dev}_fits", True), need / usable if usable else float("inf"), name, need, usable))
    if not sides:
        return ""
    ok, _, name, need, usable = sorted(sides, key=lambda s: (s[0], -s[1]))[0]
    return f"{name} {format_bytes(need)} of {format_bytes(usable)}"


def _memory_parts(memory: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """``memory`` as device → class → bytes; older results kept ``{"host_bytes": n}``."""
    out: dict[str, dict[str, float]] = {}
    for dev, value in memory.items():
        if isinstance(value, Mapping):
            parts = {str(k): float(v) for k, v in value.items() if isinstance(v, (int, float)) and v > 0}
        elif isinstance(value, (int, float)) and value > 0:
            parts = {"total": float(value)}
        else:
            continue
        if parts:
            out[str(dev).removesuffix("_bytes")] = parts
    return out


def _memory_chart(name: str, preds: Sequence[PredictionRecord]) -> Chart:
    stacks = []
    for p in preds:
        for dev, parts in _memory_parts(p.memory).items():
            usable = p.capacity.get(f"{dev}_usable_bytes")
            stacks.append(Stack(_config_label(p), {k: v / GB for k, v in parts.items()},
                                panel="GPU memory" if dev == "gpu" else "Host memory",
                                limit=usable / GB if usable else None))
    stacks.sort(key=lambda s: s.panel != "Host memory")
    return Chart(name, "stacks", "Memory needed by tensor class (line: usable)", "GB", stacks=tuple(stacks))


def _time_rows(preds: Sequence[PredictionRecord]) -> list[dict[str, str]]:
    rows = []
    for p in preds:
        times = {k: float(v) for k, v in p.time_per_token_s.items() if isinstance(v, (int, float)) and v > 0}
        total = sum(times.values())
        if not total:
            continue
        parts = ", ".join(f"{k} {format_seconds(v)} ({format_pct(v / total)})"
                          for k, v in sorted(times.items(), key=lambda kv: -kv[1]))
        rows.append({"config": _config_label(p), "total": format_seconds(total), "parts": parts, "fits": p.fits})
    return rows


def _time_chart(name: str, preds: Sequence[PredictionRecord]) -> Chart:
    stacks = []
    for p in preds:
        times = {k: float(v) * 1000 for k, v in p.time_per_token_s.items() if isinstance(v, (int, float)) and v > 0}
        if times:
            stacks.append(Stack(_config_label(p), times, note="" if p.fits else "(does not fit)"))
    return Chart(name, "stacks", "Where a decode step's time goes (batch 1)", "ms per token", stacks=tuple(stacks))


def _curve_configs(preds: Sequence[PredictionRecord]) -> tuple[list[PredictionRecord], bool]:
    """The configurations to draw, fastest first, at most ``MAX_CURVE_CONFIGS``, and whether they
    fit. When none fits, the fastest that do not (drawn dotted: what the memory system would give)."""
    rated = [p for p in preds if p.decode_tokens_per_s]
    fitting = [p for p in rated if p.fits]
    chosen = fitting or rated
    return sorted(chosen, key=lambda p: -(p.decode_tokens_per_s or 0.0))[:MAX_CURVE_CONFIGS], bool(fitting)


def _curve_charts(slug: str, preds: Sequence[PredictionRecord], result: Result,
                  predict_fn: curves.PredictFn, upgrade_fn: curves.UpgradeFn | None,
                  serve_fn: curves.ServeFn | None = None) -> tuple[list[Chart], str, dict[str, Any] | None]:
    machine = result.machine.machine  # Result.from_json has already typed and checked it
    configs, fits = _curve_configs(preds)
    if not configs:
        return [], "Curves not drawn: no configuration has a predicted speed.", None
    ctx_lines, agg_lines, scenarios = [], [], []
    suffix, solid, dashed = ("", "-", "--") if fits else (" (does not fit)", ":", ":")
    for i, p in enumerate(configs):
        try:
            sc = curves.scenario_of(p)
        except HarnessError as exc:  # a model or quant this moebench does not know: say why
            return [], f"Curves not drawn: {exc}", None
        scenarios.append((p, sc))
        label = _config_label(p) + suffix
        ctx_lines.append(Line(label, curves.CONTEXTS,
                              curves.context_curve(machine, sc, predict_fn, require_fit=fits), solid, i))
        if i < MAX_BATCH_CONFIGS:
            agg, user = (curves.serve_curve(machine, sc, serve_fn) if serve_fn and fits else
                         curves.batch_curve(machine, sc, predict_fn, require_fit=fits))
            agg_lines.append(Line(f"{_config_label(p)} aggregate", curves.BATCHES, agg, solid, i))
            agg_lines.append(Line(f"{_config_label(p)} per user", curves.BATCHES, user, dashed, i))
    charts = [Chart(f"context-{slug}", "lines", "Decode tokens/s vs context length (batch 1)", "tok/s",
                    lines=tuple(ctx_lines), xlabel="context length, tokens", xlog2=True),
              Chart(f"batch-{slug}", "lines", "Concurrency: aggregate vs per-user tokens/s"
                    + (" (simulated serving)" if serve_fn and fits else ""), "tok/s",
                    lines=tuple(agg_lines), xlabel="concurrent sequences", xlog2=True)]
    scope = (f"{len(configs)} by context, {min(len(configs), MAX_BATCH_CONFIGS)} by concurrency, "
             f"context {format_tokens(configs[0].inputs.get('context'))} there")
    if fits:
        note = (f"Curves recomputed by moebench {__version__} for the fastest configurations that fit ({scope}); "
                "a line ends where the weights plus KV cache no longer fit.")
    else:
        note = (f"No configuration fits this machine's memory: the dotted curves ({scope}) show the speed its "
                f"memory system would give if capacity sufficed (moebench {__version__}).")
    best_p, best_sc = scenarios[0]
    return charts, note, _upgrades(best_p, lambda: curves.upgrades_for(machine, best_sc, upgrade_fn))


def _cost_note(p: PredictionRecord) -> list[str]:
    assumption = _cost(p).get("assumption")
    return [f"cost: {assumption}"] if assumption else []


def _upgrades(best: PredictionRecord, compute: Any) -> dict[str, Any] | None:
    """What-to-upgrade rows for the best configuration: as the run stored them
    (``harness.perf.sensitivity`` in ``moebench run``), else computed now, else None."""
    stored = best.upgrades
    rows = [dict(r) for r in stored if isinstance(r, Mapping)] if stored is not None else compute()
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: -(r.get("gain_pct") or 0.0))
    return {"config": _config_label(best), "rows": [
        {"change": str(r.get("change") or DASH), "tps": format_tps(r.get("tokens_per_s")),
         "gain": format_pct(r["gain_pct"] / 100, 0, signed=True) if isinstance(r.get("gain_pct"), (int, float)) else DASH}
        for r in rows[:8]]}


def _assumptions(preds: Sequence[PredictionRecord]) -> dict[str, Any]:
    """Assumptions every configuration shares, once; the rest grouped by the configurations they
    apply to (``fp8 · cpu, q4_k_m · cpu: ...``), so nothing is printed twice."""
    lists = [list(dict.fromkeys([*p.assumptions, *_cost_note(p)])) for p in preds]
    labels = [_config_label(p) for p in preds]
    common = [a for a in (lists[0] if lists else []) if all(a in lst for lst in lists)]
    applies: dict[str, list[str]] = {}
    for label, lst in zip(labels, lists):
        for a in lst:
            if a not in common:
                applies.setdefault(a, []).append(label)
    groups: dict[tuple[str, ...], list[str]] = {}
    for a, configs in applies.items():
        groups.setdefault(tuple(configs), []).append(a)
    specific = [{"config": ", ".join(configs), "notes": notes} for configs, notes in groups.items()]
    return {"common": common, "specific": specific}


__all__ = ["Logo", "build_context", "dimm_summary", "grouped_gpus"]
