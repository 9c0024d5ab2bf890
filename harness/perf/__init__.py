"""The step-time model: one decode or prefill step of one scenario on one machine.

Split by mechanism, each module a page: ``devices`` (effective rates), ``step`` (bytes, FLOPs and
the roofline of a decode step; prefill), ``overheads`` (per-layer floors, tensor-parallel
collectives), ``capacity`` (what fits), ``multinode`` (expert parallelism over nodes),
``placement`` (placements and tensor-parallel size), ``prediction`` (the orchestration) and
``sensitivity`` (what-if answers on top). Pure: engine profiles are passed in
(``predict(machine, scenario, engines)``), loaded from the fit file by the application layer.
"""

from harness.perf.capacity import memory_breakdown
from harness.perf.devices import host_stream_bandwidth, theoretical_bandwidth
from harness.perf.engines import EngineProfile, EngineSet, auto_engine
from harness.perf.prediction import Prediction, auto_placement, predict
from harness.workload.scenario import BACKENDS, MAX_BATCH, MAX_TOKENS, PLACEMENTS, Scenario

__all__ = ["BACKENDS", "MAX_BATCH", "MAX_TOKENS", "PLACEMENTS", "EngineProfile", "EngineSet", "Prediction",
           "Scenario", "auto_engine", "auto_placement", "host_stream_bandwidth", "memory_breakdown", "predict",
           "theoretical_bandwidth"]
