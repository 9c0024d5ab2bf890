"""Regression detection as a pure function over literal samples (harness.analysis.compare)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.compare import (Comparison, change_points, compare_samples, detect, format_comparison,
                             mann_whitney_u, min_p_value, regressions, summary_line)

BASE = [301.2, 299.8, 300.5, 302.1, 298.9, 300.0]
NOISY = [300.0, 280.0, 320.0, 295.0, 310.0, 290.0]


def test_u_statistic_and_exact_p_for_separated_samples():
    u, p = mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert u == 0
    assert p == pytest.approx(2 / 20)  # 1 of C(6,3)=20 orderings is as extreme, two-sided


def test_ties_use_the_normal_approximation_with_tie_correction():
    u, p = mann_whitney_u([1, 1, 2, 2], [2, 2, 3, 3])
    assert u == pytest.approx(2.0)
    assert 0.05 < p < 0.2


def test_all_values_tied_is_no_evidence():
    assert mann_whitney_u([5, 5, 5], [5, 5, 5, 5])[1] == 1.0


def test_agrees_with_scipy_on_random_samples():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(7)
    for _ in range(60):
        x = [rng.randint(0, 9) / 2 for _ in range(rng.randint(2, 15))]
        y = [rng.random() * 5 for _ in range(rng.randint(2, 15))]
        exact = len(set(x + y)) == len(x + y) and len(x) * len(y) <= 400
        ref = stats.mannwhitneyu(x, y, method="exact" if exact else "asymptotic")
        u, p = mann_whitney_u(x, y)
        assert u == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue, abs=1e-12)


def test_thirty_percent_degradation_is_a_regression():
    change = detect(BASE, [v * 0.7 for v in BASE], metric="stream_triad")
    assert change.verdict == "regressed"
    assert change.method == "mann-whitney"
    assert change.change_pct == pytest.approx(-30.0)
    assert change.p_value < 0.01


def test_identical_samples_are_unchanged():
    change = detect(BASE, list(BASE), metric="stream_triad")
    assert change.verdict == "unchanged" and change.change_pct == 0.0


def test_big_median_shift_in_noise_is_not_significant():
    change = detect(NOISY, [250.0, 330.0, 240.0, 300.0, 335.0, 260.0], metric="stream_triad",
                    threshold=0.01)
    assert change.verdict == "unchanged" and change.p_value > 0.05


def test_significant_but_tiny_change_is_below_the_minimum_effect():
    change = detect(BASE, [v * 0.98 for v in BASE], metric="stream_triad", threshold=0.05)
    assert change.p_value < 0.05
    assert change.verdict == "unchanged"


def test_direction_comes_from_the_metric_table():
    slower_ttft = detect([2.0], [3.0], metric="ttft_s")  # lower is better
    assert slower_ttft.verdict == "regressed" and not slower_ttft.higher_is_better
    assert detect([2.0], [3.0], metric="decode_tokens_per_s").verdict == "improved"


def test_prediction_variants_inherit_direction():
    change = detect([10.0], [7.0], metric="ttft_s@deepseek-v3/fp8/cpu")
    assert change.verdict == "improved" and change.unit == "s"


def test_single_values_compare_by_threshold():
    assert detect([10.0], [9.6], metric="decode_tokens_per_s", threshold=0.05).verdict == "unchanged"
    change = detect([10.0], [9.4], metric="decode_tokens_per_s", threshold=0.05)
    assert change.verdict == "regressed" and change.method == "threshold" and change.p_value is None


def test_too_few_samples_for_the_test_fall_back_to_the_threshold():
    assert min_p_value(3, 3) == pytest.approx(0.1)
    change = detect([100, 101, 99], [70, 71, 69], metric="stream_triad")
    assert change.method == "threshold" and change.verdict == "regressed"


def test_metrics_on_one_side_only():
    changes = compare_samples({"stream_triad": BASE}, {"gemm_fp32": [1.0, 2.0]})
    assert [(c.metric, c.verdict) for c in changes] == [("gemm_fp32", "new"),
                                                          ("stream_triad", "missing")]
    assert regressions(changes) == []


def test_zero_baseline_has_no_percentage_but_still_a_verdict():
    change = detect([0.0], [1.0], metric="decode_tokens_per_s")
    assert change.change_pct is None and change.verdict == "improved"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1, max_value=1e4), min_size=1, max_size=12))
def test_a_sample_set_never_regresses_against_itself(samples):
    assert detect(samples, list(samples), metric="stream_triad").verdict == "unchanged"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1, max_value=1e4), min_size=1, max_size=10),
       st.lists(st.floats(min_value=1, max_value=1e4), min_size=1, max_size=10))
def test_swapping_sides_swaps_the_verdict(a, b):
    forward, backward = detect(a, b, metric="stream_triad"), detect(b, a, metric="stream_triad")
    flip = {"regressed": "improved", "improved": "regressed", "unchanged": "unchanged"}
    assert backward.verdict == flip[forward.verdict]


def test_change_point_at_a_step():
    steps = change_points([100, 101, 99, 100, 70, 71, 69])
    assert [(s.index, s.verdict) for s in steps] == [(4, "regressed")]
    assert steps[0].change_pct == pytest.approx(-30.0)


def test_one_outlier_in_a_flat_series_is_not_a_step():
    assert change_points([100, 100, 70, 100, 100]) == []
    assert change_points([100, 102, 98, 101, 99, 100]) == []


def test_two_steps_and_lower_is_better():
    steps = change_points([2.0, 2.0, 2.05, 3.0, 3.1, 3.0, 1.5, 1.5], higher_is_better=False)
    assert [(s.index, s.verdict) for s in steps] == [(3, "regressed"), (6, "improved")]


def test_short_series_has_no_steps():
    assert change_points([]) == [] and change_points([5.0]) == []


def _comparison(threshold: float = 0.05) -> Comparison:
    changes = compare_samples({"stream_triad": BASE, "ttft_s@m/q/cpu": [2.0]},
                              {"stream_triad": [v * 0.7 for v in BASE], "ttft_s@m/q/cpu": [2.0]},
                              threshold=threshold)
    return Comparison("bios=A", "bios=B", ("a1", "a2"), ("b1",), changes, threshold)


def test_summary_names_the_regressed_metric():
    assert summary_line(_comparison()) == "REGRESSED 1: stream_triad (-30.0%)"
    assert _comparison().to_dict()["regressed"] == ["stream_triad"]


def test_format_lists_every_metric_and_the_verdict():
    text = format_comparison(_comparison())
    assert "bios=A  (2 runs)" in text and "bios=B  (1 run)" in text
    assert [line.split()[-1] for line in text.splitlines()[5:7]] == ["regressed", "unchanged"]


def test_run_to_run_wobble_that_the_samples_show_is_not_a_step():
    noisy = [[36.8, 36.9, 65.5, 38.5, 60.0], [42.4, 50.3, 24.0, 37.0, 43.5],
             [29.0, 31.5, 31.2, 57.3, 31.7]]  # three real quick runs on a shared 2-core VM
    assert change_points(noisy) == []
    assert len(change_points([median_of(r) for r in noisy])) > 0  # medians alone would mark it


def test_a_step_in_sampled_runs():
    runs = [[100, 101, 99], [100, 99, 101], [70, 71, 69], [70, 69, 71]]
    [step] = change_points(runs)
    assert (step.index, step.verdict, step.before, step.after) == (2, "regressed", 100, 70)


def median_of(values):
    return sorted(values)[len(values) // 2]


def test_threshold_is_a_ratio_so_swapping_sides_cannot_change_the_verdict():
    # Found by test_swapping_sides_swaps_the_verdict: against the baseline alone, 1.0 -> 1.0508
    # (+5.08 %) counted at 5 % but 1.0508 -> 1.0 (-4.83 %) did not.
    a, b = [1.0], [1.0, 1.1015625]
    assert detect(a, b, metric="stream_triad").verdict == "improved"
    assert detect(b, a, metric="stream_triad").verdict == "regressed"
    assert detect([100.0], [104.9], metric="stream_triad").verdict == "unchanged"
    assert detect([104.9], [100.0], metric="stream_triad").verdict == "unchanged"
    assert detect([100.0], [95.0], metric="stream_triad").verdict == "regressed"  # 100/95 = 1.053
