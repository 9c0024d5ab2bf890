"""Old import path, kept for users' scripts: the step-time model is ``harness.perf`` now, and takes
the engine profiles explicitly. ``predict(machine, scenario)`` here uses the shipped profiles."""

from __future__ import annotations

from harness.calibration.fitfile import default_engines
from harness.hardware.machine import Machine
from harness.perf import *  # noqa: F401,F403
from harness.perf import Prediction, Scenario  # noqa: F401
from harness.perf import predict as _predict
from harness.perf.engines import EngineSet


def predict(machine: Machine, sc: Scenario, engines: EngineSet | None = None) -> Prediction:
    """``harness.perf.predict`` with the shipped engine profiles unless others are given."""
    return _predict(machine, sc, engines or default_engines())
