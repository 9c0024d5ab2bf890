"""Speed of `moebench plan` over the whole catalog, measured in one run on this machine.

    python bench/plan_speed.py

Prints the seconds of a plan over every catalog machine with up to 32 boxes each (DeepSeek-V3, FP8
and Q4_K_M, 1,000 in / 1,000 out, >= 15 tok/s per user) for 20, 100 and 500 users, beside the target
(<= 30 s on 2 cores), and how many candidates each assessed. Other processes on the machine slow it:
the load average is printed with it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.app.plan import plan_for  # noqa: E402

USERS = (20, 100, 500)
TARGET_S = 30.0


def main() -> None:
    plan_for(users=1, min_tps=15, machines=["8x-h200"], quants=["fp8"], max_boxes=1)  # warm the catalogs
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the runs")
    for users in USERS:
        t0 = time.perf_counter()
        out = plan_for(users=users, min_tps=15, max_boxes=32)
        dt = time.perf_counter() - t0
        best = out["best"]
        print(f"{users} users: {dt:.1f} s over {len(out['options'])} candidates (target <= {TARGET_S:g} s: "
              f"{'met' if dt <= TARGET_S else 'not met'}); best "
              + (f"{best['count']} x {best['machine']} ({best['layout']}, {best['engine']})" if best else "none"))


if __name__ == "__main__":
    main()
