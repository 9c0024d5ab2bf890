"""Prediction accuracy against the calibration rows, measured in one run.

    python bench/prediction_accuracy.py

Prints the same table as ``moebench validate`` and the ratios the issue tracks: MAPE of the
model, MAPE of the rule of thumb (bandwidth ÷ activated bytes), how many rows fall within ×1.5,
and the seed box (dual EPYC 9355 + RTX 5090D) against its published 21 / 28 tok/s. Then the
held-out rows of ``harness/data/calibration/holdout.csv`` (published measurements the engine profiles were never
fitted on): how the model does on data it has not seen.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.app.api import predict_on  # noqa: E402
from harness.commands.validate import print_validation  # noqa: E402
from harness.calibration.rows import holdout_path  # noqa: E402
from harness.app.validate import validate  # noqa: E402

HOLDOUT = holdout_path()
# calibration rows hy90_fp8, hy90_int4 (the HY90's own engine; its paper runs "INT4" as the Q4_K_M GGUF)
SEED_PUBLISHED = {"fp8": 21.0, "q4_k_m": 28.0}


def main() -> None:
    result = validate()
    print_validation(result)
    ratio = result["rule_of_thumb_mape_pct"] / result["mape_pct"]
    print(f"rule-of-thumb MAPE / model MAPE = {ratio:.2f}x")
    for quant, published in SEED_PUBLISHED.items():
        pred = predict_on("epyc9355-rtx5090d", quant=quant, engine="xingyun", placement="hybrid", context=0)
        tps = pred["decode_tokens_per_s"]
        print(f"seed box (catalog spec) {quant} with its own engine (xingyun): predicted {tps:.1f} tok/s, "
              f"published {published:.0f} ({100 * (tps / published - 1):+.1f}%)")
    kt = predict_on("epyc9355-rtx5090d", quant="q4_k_m", engine="ktransformers", placement="hybrid",
                    context=4096)["decode_tokens_per_s"]
    print(f"seed box with KTransformers, q4_k_m at 4K: predicted {kt:.1f} tok/s, the OSDI '26 paper's "
          f"KTransformers baseline on that hardware 22 ({100 * (kt / 22 - 1):+.1f}%)")
    rows = result["rows"]
    worst = max(rows, key=lambda r: abs(r["error_pct"]))
    rest = [abs(r["error_pct"]) for r in rows if r is not worst]
    print(f"targets: MAPE {result['mape_pct']:.1f}% (<= 15%: {'met' if result['mape_pct'] <= 15 else 'not met'}); "
          f"{result['within_1_5x']} of {result['count']} rows within x1.5; {ratio:.2f}x better than the rule of "
          f"thumb (>= 2x); without the worst row ({worst['id']}, {worst['error_pct']:+.0f}%) the MAPE is "
          f"{sum(rest) / len(rest):.1f}%")
    print()
    print("Held out (never fitted on):")
    print_validation(validate(HOLDOUT))


if __name__ == "__main__":
    main()
