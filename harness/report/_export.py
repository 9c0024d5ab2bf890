"""The sheet as Markdown (from the same context, through a template) and the predictions as CSV
(raw numbers from the result, one row per model × quant × placement, for spreadsheets)."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from harness.documents.result import PredictionRecord, Result
from harness.report._render import text_environment

CSV_COLUMNS = ("run_id", "machine", "model", "quant", "placement", "engine", "context", "batch",
               "decode_tokens_per_s", "aggregate_tokens_per_s", "prefill_tokens_per_s", "ttft_s", "fits",
               "bottleneck", "host_bytes", "gpu_bytes", "max_context", "max_batch",
               "cost_per_million_tokens", "currency")
# A cell starting with one of these is a formula to Excel/LibreOffice (CSV injection): prefix a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_markdown_text(context: Mapping[str, Any], template: str = "spec_sheet.md.j2") -> str:
    return text_environment().get_template(template).render(**context)


def render_csv_text(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in result.predictions:
        writer.writerow([_cell(v) for v in _csv_row(result, p)])
    return out.getvalue()


def _device_bytes(memory: Mapping[str, Any], dev: str) -> float | None:
    """Bytes on one device: the sum of its classes (``{"gpu": {...}}``, or ``{"host_bytes": n}`` in
    older results)."""
    value = memory[dev] if dev in memory else memory.get(f"{dev}_bytes")
    if isinstance(value, Mapping):
        return sum(v for v in value.values() if isinstance(v, (int, float)))
    return value if isinstance(value, (int, float)) else None


def _csv_row(result: Result, p: PredictionRecord) -> list[Any]:
    inputs, cap, cost = p.inputs, p.capacity, p.cost or {}
    return [result.run_id, result.machine.name, p.model, p.quant, p.placement or inputs.get("placement"),
            p.engine or inputs.get("engine"), inputs.get("context"), inputs.get("batch"), p.decode_tokens_per_s,
            p.aggregate_tokens_per_s, p.prefill_tokens_per_s, p.ttft_s, p.fits, p.bottleneck,
            _device_bytes(p.memory, "host"), _device_bytes(p.memory, "gpu"), cap.get("max_context"),
            cap.get("max_batch"), cost.get("cost_per_million_tokens"), cost.get("currency")]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
