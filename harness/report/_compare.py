"""The comparison sheet's context: several results side by side (BIOS A vs B, DIMMs, kernels).

The first result is the baseline. Settings rows that differ are flagged; every probe and
predicted figure gets its change against the baseline and a verdict from
``harness.analysis.compare.detect`` (Mann–Whitney on the samples when there are enough, else threshold).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Mapping, Sequence

from harness import __version__
from harness.documents.result import Result
from harness.hardware.machine import Machine
from harness.report.charts import Bar, Chart
from harness.analysis.compare import detect
from harness.metrics import get_metric
from harness.report._context import (
    DASH, Logo, _config_label, _cpu_line, _gpu_lines, _memory_line, _onoff, _when, dimm_summary,
)
from harness.report._format import format_pct

Setting = Callable[[Machine, Mapping[str, Any], Result], Any]  # (machine, system inventory, result)

_SETTINGS: tuple[tuple[str, Setting], ...] = (
    ("Machine", lambda m, s, r: m.name), ("CPU", lambda m, s, r: _cpu_line(m)),
    ("Memory", lambda m, s, r: _memory_line(m)),
    ("DIMMs", lambda m, s, r: dimm_summary(s.get("dimms") or [], s.get("dimm_slots"))),
    ("GPU", lambda m, s, r: "; ".join(_gpu_lines(m)) or "none"),
    ("BIOS", lambda m, s, r: " ".join(str(s[k]) for k in ("bios_vendor", "bios_version", "bios_date") if s.get(k))),
    ("Kernel", lambda m, s, r: s.get("kernel")), ("CPU governor", lambda m, s, r: s.get("governor")),
    ("Transparent huge pages", lambda m, s, r: s.get("thp")),
    ("NUMA balancing", lambda m, s, r: _onoff(s.get("numa_balancing"))),
    ("SMT", lambda m, s, r: _onoff(s.get("smt"))),
    ("Fingerprint", lambda m, s, r: r.machine.fingerprint),
    ("moebench", lambda m, s, r: r.harness_version),
)


def _checked(results: Sequence[Result | Mapping[str, Any]]) -> list[Result]:
    return [Result.from_json(r, "result") for r in results]


def run_labels(results: Sequence[Result | Mapping[str, Any]]) -> list[str]:
    """Short names for the columns: the tags that differ between runs, else the run ids."""
    runs = _checked(results)
    tag_sets = [r.tags for r in runs]
    keys = sorted({k for t in tag_sets for k in t if len({str(x.get(k)) for x in tag_sets}) > 1})
    labels = []
    for r, tags in zip(runs, tag_sets):
        text = ", ".join(f"{k}={tags[k]}" for k in keys if k in tags)
        labels.append(text or str(r.run_id or "run")[:8])
    if len(set(labels)) < len(labels):
        labels = [f"{lab} ({str(r.run_id or '')[:6]})" for lab, r in zip(labels, runs)]
    return labels


def build_comparison_context(results: Sequence[Result | Mapping[str, Any]], *, vendor: str | None = None,
                             logo: Logo | None = None, generated_at: str | None = None) -> dict[str, Any]:
    """Everything the comparison template shows; ``results[0]`` is the baseline. Mappings are
    checked as result.json files are (``Result.from_json``)."""
    runs = _checked(results)
    labels = run_labels(runs)
    metric_rows = _metric_rows(runs, labels)
    charts = [c for c in (_chart("compare-probes", "Measured (median of samples)", "", metric_rows, "probe", labels),
                          _chart("compare-decode", "Predicted decode tokens/s, batch 1", "tok/s", metric_rows,
                                 "prediction", labels)) if c.bars]
    return {
        "title": f"moebench comparison — {' vs '.join(labels)}",
        "vendor": vendor, "logo": logo.data_uri if logo else None,
        "labels": labels, "baseline": labels[0],
        "runs": [{"label": lab, "id": str(r.run_id or DASH), "started": _when(r.started_at),
                  "machine": str(r.machine.name or DASH),
                  "tags": sorted((str(k), str(v)) for k, v in r.tags.items())}
                 for lab, r in zip(labels, runs)],
        "settings": _settings_rows(runs),
        "metrics": metric_rows,
        "summary": _summary(metric_rows, labels),
        "charts": charts, "chart_names": [c.name for c in charts],
        "report_version": __version__, "generated": generated_at or DASH,
    }


def _settings_rows(results: Sequence[Result]) -> list[dict[str, Any]]:
    rows = []
    for name, get in _SETTINGS:
        values = []
        for r in results:
            value = get(r.machine.machine, r.machine.system, r)
            values.append(str(value) if value not in (None, "") else DASH)
        rows.append({"name": name, "cells": values, "differs": len(set(values)) > 1})
    for key in sorted({k for r in results for k in r.tags}):
        values = [str(r.tags[key]) if key in r.tags else DASH for r in results]
        rows.append({"name": f"tag {key}", "cells": values, "differs": len(set(values)) > 1})
    return rows


Samples = dict[str, tuple[str, list[float]]]  # metric name → (kind, samples)


def _samples_of(result: Result) -> Samples:
    """metric name → (kind, samples): probes with their samples, predictions as one value."""
    out: Samples = {}
    for name, p in sorted(result.probes.items()):
        samples = [v for v in p.samples if v is not None]
        if not samples and p.median is not None:
            samples = [p.median]
        if samples:
            out[name] = ("probe", samples)
    for pred in result.predictions:
        if pred.decode_tokens_per_s is not None:
            out.setdefault(f"decode · {_config_label(pred, model=True)}", ("prediction", [pred.decode_tokens_per_s]))
    return out


def _samples(per_run: Samples, name: str) -> list[float]:
    return per_run[name][1] if name in per_run else []


def _metric_rows(results: Sequence[Result], labels: Sequence[str]) -> list[dict[str, Any]]:
    per_run = [_samples_of(r) for r in results]
    names = list(dict.fromkeys(n for s in per_run for n in s))
    rows = []
    base = per_run[0]
    for name in names:
        kind = next(s[name][0] for s in per_run if name in s)
        metric = get_metric(name if kind == "probe" else "decode_tokens_per_s")
        cells = []
        for i, s in enumerate(per_run):
            samples = _samples(s, name)
            change = detect(_samples(base, name), samples, metric=metric.name) if i else None
            cells.append({
                "value": metric.format(_median(samples)) if samples else DASH,
                "median": _median(samples) if samples else None,
                "change": format_pct(change.change_pct / 100, 1, signed=True) if change and change.change_pct is not None else "",
                "verdict": change.verdict if change else "baseline",
                "method": change.method if change else "",
            })
        rows.append({"name": name, "kind": kind, "unit": metric.unit, "cells": cells,
                     "n": ", ".join(str(len(_samples(s, name))) for s in per_run)})
    return rows


def _summary(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> list[str]:
    """One line per candidate: ``bios=B: 4 regressed, 1 improved, 1 unchanged``."""
    out = []
    for i, label in enumerate(labels[1:], start=1):
        counts = Counter(row["cells"][i]["verdict"] for row in rows)
        order = ("regressed", "improved", "unchanged", "new", "missing")
        text = ", ".join(f"{counts[v]} {v}" for v in order if counts[v])
        out.append(f"{label} vs {labels[0]}: {text or 'nothing to compare'}")
    return out


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _chart(name: str, title: str, unit: str, rows: Sequence[Mapping[str, Any]], kind: str,
           labels: Sequence[str]) -> Chart:
    bars = []
    chosen = [r for r in rows if r["kind"] == kind and (kind != "probe" or r["unit"] == "GB/s")][:8]
    for r in chosen:
        for lab, cell in zip(labels, r["cells"]):
            if cell["median"] is not None:
                short = r["name"].removeprefix("decode · ")
                bars.append(Bar(f"{short} [{lab}]", cell["median"], lab))
    unit = unit or (chosen[0]["unit"] if chosen else "")
    return Chart(name, "bars", title + (" (GB/s probes)" if kind == "probe" else ""), unit, bars=tuple(bars))


__all__ = ["build_comparison_context", "run_labels"]
