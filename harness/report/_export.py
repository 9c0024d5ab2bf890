"""The sheet as Markdown (from the same context, through a template) and the predictions as CSV
(raw numbers from the result, one row per model × quant × placement, for spreadsheets)."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from harness.report._render import text_environment

CSV_COLUMNS = ("run_id", "machine", "model", "quant", "placement", "engine", "context", "batch",
               "decode_tokens_per_s", "aggregate_tokens_per_s", "prefill_tokens_per_s", "ttft_s", "fits",
               "bottleneck", "host_bytes", "gpu_bytes", "max_context", "max_batch",
               "cost_per_million_tokens", "currency")
# A cell starting with one of these is a formula to Excel/LibreOffice (CSV injection): prefix a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_markdown_text(context: Mapping[str, Any], template: str = "spec_sheet.md.j2") -> str:
    return text_environment().get_template(template).render(**context)


def render_csv_text(result: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in result.get("predictions") or []:
        if isinstance(p, dict):
            writer.writerow([_cell(v) for v in _csv_row(result, p)])
    return out.getvalue()


def _csv_row(result: Mapping[str, Any], p: Mapping[str, Any]) -> list[Any]:
    inputs = p.get("inputs") or {}
    cap = p.get("capacity") or {}
    cost = p.get("cost") if isinstance(p.get("cost"), dict) else {}
    memory = p.get("memory") if isinstance(p.get("memory"), dict) else {}

    def dev_bytes(dev: str) -> float | None:
        value = memory.get(dev, memory.get(f"{dev}_bytes"))
        if isinstance(value, dict):
            return sum(v for v in value.values() if isinstance(v, (int, float)))
        return value if isinstance(value, (int, float)) else None

    return [result.get("run_id"), (result.get("machine") or {}).get("name"), inputs.get("model"),
            inputs.get("quant"), p.get("placement") or inputs.get("placement"), p.get("engine") or inputs.get("engine"),
            inputs.get("context"), inputs.get("batch"), p.get("decode_tokens_per_s"),
            p.get("aggregate_tokens_per_s"), p.get("prefill_tokens_per_s"), p.get("ttft_s"), p.get("fits"),
            p.get("bottleneck"), dev_bytes("host"), dev_bytes("gpu"), cap.get("max_context"), cap.get("max_batch"),
            cost.get("cost_per_million_tokens"), cost.get("currency")]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
