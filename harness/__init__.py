"""moebench harness: workload model, prediction, results, store and reports."""

__version__ = "0.1.0"
