"""Speed of the serving simulator, measured in one run on this machine.

    python bench/serve_speed.py

Prints the seconds of one 500-request point and of a 10-point sweep (DeepSeek-V3 FP8 on the 8x H200
catalog box, 1,024 in / 1,024 out), beside the targets (<= 1 s and <= 10 s on 2 cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.app.serve import serve_on  # noqa: E402

SWEEP = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def main() -> None:
    serve_on("8x-h200", concurrency=1, requests=10)  # load the catalogs and the fit files first
    t0 = time.perf_counter()
    point = serve_on("8x-h200", concurrency=64, requests=500)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    sweep = serve_on("8x-h200", sweep=SWEEP, requests=500)
    many = time.perf_counter() - t0
    print(f"one 500-request point (c=64): {one:.2f} s (target <= 1 s: {'met' if one <= 1 else 'not met'}); "
          f"{point['output_throughput']:,.0f} output tok/s")
    print(f"10-point sweep, 500 requests each: {many:.2f} s (target <= 10 s: {'met' if many <= 10 else 'not met'}); "
          f"{sum(p['completed'] for p in sweep['sweep'])} requests simulated")


if __name__ == "__main__":
    main()
