"""One measured quantity with its samples, summarised the way STREAM and pyperf do."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """Samples of a rate (higher is better). ``best`` is the maximum, STREAM's convention."""

    samples: tuple[float, ...]
    unit: str

    @property
    def best(self) -> float:
        return max(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cv(self) -> float:
        """Coefficient of variation (stdev / mean); 0 for a single sample."""
        if len(self.samples) < 2:
            return 0.0
        mean = statistics.fmean(self.samples)
        return statistics.stdev(self.samples) / mean if mean else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The probe entry of ``ProbeReport.to_dict()`` (contract)."""
        return {"samples": [round(s, 3) for s in self.samples], "best": round(self.best, 3),
                "median": round(self.median, 3), "cv": round(self.cv, 5), "unit": self.unit}
