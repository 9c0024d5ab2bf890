"""Fit the engine profiles and write harness/data/engine_fit.json (the fitter is
``harness.calibration.fit``; this script is kept for the old command line).

    python bench/fit_engines.py [--check] [--no-cv]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.calibration.fit import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
