"""Scoring a calibration case: its prediction against its measurement, with the naive rule of
thumb (peak bandwidth ÷ activated bytes) beside it, and the multi-node serving rows as a
consistency check. ``moebench validate`` (``harness.app.validate``) and the fitter use these."""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.calibration.rows import CalibrationCase, lead_int, load_cases
from harness.perf.engines import EngineSet
from harness.perf.devices import theoretical_bandwidth
from harness.perf.prediction import predict
from harness.workload.scenario import Scenario
from harness.workload import load_model
from harness.workload.quant import parse_quant


@dataclass(frozen=True)
class RowScore:
    id: str
    engine: str
    placement: str
    model: str
    quant: str
    measured: float
    predicted: float
    rule_of_thumb: float | None
    measured_prefill: float | None = None
    predicted_prefill: float | None = None
    fits: bool = True  # the prediction's own verdict on whether weights + KV fit the row's machine

    @property
    def error(self) -> float:
        return self.predicted / self.measured - 1

    @property
    def ratio(self) -> float:
        return self.predicted / self.measured

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "engine": self.engine, "placement": self.placement, "model": self.model,
                "quant": self.quant, "measured_tok_s": self.measured, "predicted_tok_s": self.predicted,
                "error_pct": 100 * self.error, "rule_of_thumb_tok_s": self.rule_of_thumb,
                "rule_of_thumb_error_pct": (100 * (self.rule_of_thumb / self.measured - 1)
                                            if self.rule_of_thumb else None),
                "measured_prefill_tok_s": self.measured_prefill, "predicted_prefill_tok_s": self.predicted_prefill}


def rule_of_thumb(case: CalibrationCase, model: Any, quant: Any) -> float | None:
    """Peak bandwidth of the memory holding the experts ÷ activated bytes per token."""
    m = case.machine
    if m is None:
        return None
    if case.placement in ("cpu", "hybrid"):
        bw = m.measured_bandwidth_gbs or theoretical_bandwidth(m)
    else:
        bw = m.gpus[0].bandwidth_gbs if m.gpus else None
    read = sum(v for k, v in quant.read_bytes(model).items() if k != "mtp")
    return bw * 1e9 / read if bw and read else None


def calibration_model(model_id: str) -> str:
    """Catalog id, or the path of a calibration-only config (dense contrast models)."""
    extra = resources.files("harness") / "data" / "calibration" / "models" / f"{model_id}.json"
    return str(extra) if extra.is_file() else model_id


def score_case(case: CalibrationCase, engines: EngineSet) -> RowScore:
    model = load_model(calibration_model(case.model_id))
    quant = parse_quant(case.quant)
    sc = Scenario(model=model, quant=quant, engine=case.engine, placement=case.placement,
                  context=case.context, batch=case.batch, backend=case.backend,
                  prompt=case.prompt or Scenario.prompt, prefill_depth=case.prefill_depth,
                  # the rows' hybrid runs keep every routed expert in host RAM (llama.cpp's -ot exps=CPU,
                  # KTransformers' default rule files); none states a GPU-expert layer count
                  gpu_expert_layers=0)
    pred = predict(case.machine, sc, engines)
    return RowScore(case.id, case.engine, case.placement, case.model_id, case.quant, case.measured_decode,
                    pred.decode_tokens_per_s or 0.0, rule_of_thumb(case, model, quant),
                    case.measured_prefill, pred.prefill_tokens_per_s, fits=bool(pred.fits))


def usable_cases(path: Path | None = None) -> list[CalibrationCase]:
    return [c for c in load_cases(path) if c.usable]


def mape(errors: Iterable[float]) -> float:
    errs = [abs(e) for e in errors]
    return 100 * sum(errs) / len(errs) if errs else float("nan")


# DeepSeek's H800 nodes carry 8 × 400 Gb/s InfiniBand NICs (DeepSeek-V3 report §3.1): 400 GB/s
# per node per direction, assumed for multi-node rows that do not state their interconnect.
DEFAULT_NODE_LINK_GBS = 400.0


def aggregate_rows(cases: list[CalibrationCase], engines: EngineSet) -> list[dict[str, Any]]:
    """Multi-node serving rows (aggregate tokens/s per node and per-user speed), predicted at the
    concurrency they imply (aggregate ÷ per-user) — a consistency check, kept out of the MAPE."""
    out = []
    for c in cases:
        text = c.row.get("decode_tok_s", "")
        user = re.search(r"(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))? per user", text)
        nodes = re.search(r"= (\d+) nodes", c.row.get("gpu_count", ""))
        if c.placement != "multi-node" or not user or not nodes or c.machine is None or not c.measured_decode:
            continue
        per_user = (float(user.group(1)) + float(user.group(2) or user.group(1))) / 2
        per_node = c.measured_decode
        n_nodes = int(nodes.group(1))
        gpus = tuple(replace(g, count=lead_int(c.row.get("gpu_count")) or g.count) for g in c.machine.gpus)
        machine = replace(c.machine, nodes=n_nodes, gpus=gpus, interconnect_gbs=DEFAULT_NODE_LINK_GBS)
        batch = round(per_node / per_user * n_nodes)
        sc = Scenario(model=load_model(c.model_id), quant=parse_quant("fp8"), engine="sglang", placement="multi-node",
                      context=c.context, batch=batch)
        pred = predict(machine, sc, engines)
        out.append({"id": c.id, "nodes": n_nodes, "batch": batch, "measured_per_user_tok_s": per_user,
                    "predicted_per_user_tok_s": pred.decode_tokens_per_s,
                    "measured_per_node_tok_s": per_node,
                    "predicted_per_node_tok_s": (pred.aggregate_tokens_per_s or 0) / n_nodes,
                    "assumption": f"interconnect {DEFAULT_NODE_LINK_GBS:g} GB/s per node (not in the row)"})
    return out
