"""STREAM, MoE replay and GEMM on small arrays: byte counting, planning, clean interruption."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from probe_fakes import FakeClock, FakeSources
from probes import _fused
from probes._team import Team
from probes.compute import run_gemm
from probes.memory import (
    SCALAR, StreamPlan, _Arrays, plan_moe_replay, plan_stream, run_moe_replay, run_stream,
    stream_settings,
)
from probes.moe import MoePlan
from probes.system import SystemInfo

MIB = 1 << 20


def small_plan(cpus=(0,), n=1 << 16, samples=2, passes=2) -> StreamPlan:
    return StreamPlan(cpus=cpus, elements_per_thread=n, samples=samples, passes=passes,
                      block_elements=4096, memory_budget_bytes=64 * MIB)


def test_stream_byte_counting_with_a_fake_clock():
    n = 1 << 14
    result = run_stream(small_plan(n=n), clock=FakeClock(step=0.001))  # each kernel "takes" 1 ms
    gbs = {k: m.best for k, m in result.kernels.items()}
    assert gbs["copy"] == pytest.approx(16 * n / 1e-3 / 1e9)
    assert gbs["scale"] == pytest.approx(16 * n / 1e-3 / 1e9)
    assert gbs["add"] == pytest.approx(24 * n / 1e-3 / 1e9)
    assert gbs["triad"] == pytest.approx(24 * n / 1e-3 / 1e9)


def test_blocked_triad_computes_stream_triad():
    arrays = _Arrays(10_000, block=4096)  # a partial last block too
    arrays.b[:] = np.arange(10_000)
    arrays.c[:] = 2.0
    arrays.run("triad")
    np.testing.assert_allclose(arrays.a, np.arange(10_000) + SCALAR * 2.0)


def test_one_pass_triad_computes_stream_triad():
    pytest.importorskip("numba")
    arrays = _Arrays(10_001, block=4096, one_pass=True)
    assert arrays.fused is not None
    arrays.b[:] = np.arange(10_001)
    arrays.c[:] = np.linspace(-3.0, 3.0, 10_001)
    arrays.run("triad")
    np.testing.assert_allclose(arrays.a, arrays.b + SCALAR * arrays.c, rtol=1e-15)


def test_plan_takes_the_one_pass_triad_when_numba_works(monkeypatch):
    pytest.importorskip("numba")
    plan = plan_stream(True, SystemInfo(l3_cache_bytes=MIB, memory_available_bytes=8 << 30),
                       cpus=(0,))
    assert plan.one_pass_triad and "numba" in plan.triad_kernel
    settings = stream_settings(plan)
    assert settings["triad_kernel"] == plan.triad_kernel and settings["triad_block_bytes"] is None


def test_without_numba_the_blocked_triad_runs_and_the_plan_says_so(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_numba(name, *args, **kwargs):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("No module named 'numba'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(_fused, "_cache", {})
    monkeypatch.setattr(builtins, "__import__", no_numba)
    plan = plan_stream(True, SystemInfo(l3_cache_bytes=MIB, memory_available_bytes=8 << 30),
                       cpus=(0,))
    assert not plan.one_pass_triad
    assert "blocked numpy" in plan.triad_kernel and "ImportError" in plan.triad_kernel
    assert any("install numba" in note for note in plan.notes)
    assert stream_settings(plan)["triad_block_bytes"] == plan.block_elements * 8
    result = run_stream(replace(plan, elements_per_thread=1 << 14, samples=2, passes=1, seconds=None))
    assert result.kernels["triad"].best > 0.1


def test_a_wrong_numba_kernel_is_not_trusted(monkeypatch):
    numba = pytest.importorskip("numba")

    class Wrong:
        signatures = ["float64[::1] x 3, float64"]  # looks compiled

        def __call__(self, a, b, c, s):
            a.fill(0.0)  # but does the wrong work

    def broken_njit(*args, **kwargs):
        return lambda fn: Wrong()
    monkeypatch.setattr(_fused, "_cache", {})
    monkeypatch.setattr(numba, "njit", broken_njit)
    kernel, why = _fused.one_pass_triad()
    assert kernel is None and "wrong values" in why


def test_a_disabled_jit_falls_back_instead_of_timing_a_python_loop(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(_fused, "_cache", {})
    monkeypatch.setattr(numba, "njit", lambda *args, **kwargs: (lambda fn: fn))  # what DISABLE_JIT does
    kernel, why = _fused.one_pass_triad()
    assert kernel is None and "NUMBA_DISABLE_JIT" in why


def test_one_round_maps_a_to_itself():
    arrays = _Arrays(4096, block=1024)
    for kernel in ("copy", "scale", "add", "triad"):
        arrays.run(kernel)
    np.testing.assert_allclose(arrays.a, 1.0)
    if _fused.one_pass_triad()[0] is not None:
        fused = _Arrays(4096, block=1024, one_pass=True)
        for kernel in ("copy", "scale", "add", "triad"):
            fused.run(kernel)
        np.testing.assert_allclose(fused.a, 1.0)


def test_real_run_on_two_threads():
    result = run_stream(small_plan(cpus=(0, 0), n=1 << 16))
    for name in ("copy", "scale", "add", "triad"):
        m = result.kernels[name]
        assert len(m.samples) == 2 and m.best > 0.1 and m.unit == "GB/s"


def test_plan_is_at_least_four_times_llc_and_within_budget():
    system = SystemInfo(l3_cache_bytes=32 * MIB, memory_available_bytes=16 << 30)
    plan = plan_stream(True, system, cpus=(0, 1))
    assert plan.array_bytes >= 4 * 32 * MIB
    assert 3 * plan.array_bytes <= plan.memory_budget_bytes
    assert any("memory budget" in n for n in plan.notes)


def test_small_memory_shrinks_arrays_and_says_so():
    system = SystemInfo(l3_cache_bytes=256 * MIB, memory_available_bytes=512 * MIB)
    plan = plan_stream(False, system, cpus=(0,))
    assert 3 * plan.array_bytes <= plan.memory_budget_bytes <= 512 * MIB
    assert any("STREAM asks for 4x" in n for n in plan.notes)


def test_per_node_plan_only_on_multi_node_machines():
    two = SystemInfo(numa_nodes=2, numa_node_cpus=((0,), (1,)), l3_cache_bytes=MIB,
                     memory_available_bytes=4 << 30)
    assert plan_stream(True, two, cpus=(0, 1)).node_cpus == ((0,), (1,))
    assert plan_stream(True, SystemInfo(l3_cache_bytes=MIB), cpus=(0, 1)).node_cpus == ()


def test_per_node_triad_is_reported():
    plan = StreamPlan(cpus=(0, 1), elements_per_thread=1 << 14, samples=1, passes=1,
                      block_elements=4096, memory_budget_bytes=64 * MIB, node_cpus=((0,), (1,)))
    result = run_stream(plan)
    assert {"triad@node0", "triad@node1"} <= set(result.kernels)


def test_interrupt_joins_every_worker():
    release = threading.Event()

    def step(state, name):
        release.wait(0.01)

    def progress(stage, done, total):
        raise KeyboardInterrupt

    team = Team((0, 1), lambda i, cpu: None, step, FakeClock())
    with pytest.raises(KeyboardInterrupt):
        team.run(["x"], rounds=1000, stage="t", progress=progress)
    assert not [t for t in threading.enumerate() if t.name.startswith("moebench-")]


def test_worker_error_reaches_the_caller():
    def step(state, name):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        Team((0, 0), lambda i, cpu: None, step, FakeClock()).run(["x"], 3, "t")
    assert not [t for t in threading.enumerate() if t.name.startswith("moebench-")]


def test_moe_replay_small_pool():
    plan = MoePlan(experts=4, hidden=512, intermediate=64, top_k=2, layers_per_sample=2, samples=3)
    result = run_moe_replay(plan, clock=FakeClock(step=0.001))
    # one worker, two layers: the clock is read at each layer's start and end -> 3 ms a sample
    per_sample = 2 * 2 * plan.expert_bytes / 3e-3 / 1e9
    assert result.measurement.samples == pytest.approx((per_sample,) * 3)


def test_moe_plan_is_far_beyond_llc_and_within_budget():
    plan = plan_moe_replay(True, SystemInfo(l3_cache_bytes=32 * MIB), budget_bytes=4 << 30)
    assert plan.pool_bytes >= 8 * 32 * MIB and plan.pool_bytes <= 4 << 30


def test_gemm_counts_two_n_cubed():
    result = run_gemm(True, clock=FakeClock(step=0.001), size=64, samples=2)
    from probes.compute import MIN_SAMPLE_SECONDS
    # the fake clock advances 1 ms per reading: one product "lasts" 1 ms, so a sample holds
    # MIN_SAMPLE_SECONDS / 1 ms products, and the sample itself (two readings) "lasts" 1 ms
    reps = round(MIN_SAMPLE_SECONDS[True] / 1e-3)
    assert result.fp32.samples[0] == pytest.approx(2 * 64 ** 3 * reps / 1e-3 / 1e9)
    assert result.fp64.unit == "GFLOP/s"


def test_one_cpu_per_core_uses_topology():
    from probes.memory import one_cpu_per_core
    cpus = one_cpu_per_core(FakeSources("epyc7451-2s"))
    assert cpus and len(cpus) == len(set(cpus))


def test_time_budget_stops_early_but_keeps_the_minimum():
    team = Team((0,), lambda i, cpu: None, lambda state, name: None, FakeClock(step=1.0))
    stamps = team.run(["x", "y"], rounds=100, stage="t", seconds=10.0, min_rounds=3)
    assert 3 <= len(stamps) < 100


def test_time_budget_never_cuts_below_the_minimum():
    team = Team((0,), lambda i, cpu: None, lambda state, name: None, FakeClock(step=100.0))
    assert len(team.run(["x"], rounds=10, stage="t", seconds=1.0, min_rounds=4)) == 4


def test_single_threaded_blas_restores_the_thread_count():
    from probes._blas import single_threaded_blas
    with single_threaded_blas() as first:
        pass
    with single_threaded_blas() as second:
        pass
    assert first == second


def test_stream_with_forked_worker_processes():
    plan = StreamPlan(cpus=(0, 1), elements_per_thread=1 << 16, samples=2, passes=2,
                      block_elements=4096, memory_budget_bytes=64 * MIB, processes=True)
    result = run_stream(plan)
    assert all(len(m.samples) == 2 and m.best > 0.1 for m in result.kernels.values())


def test_one_pass_triad_in_forked_worker_processes():
    pytest.importorskip("numba")
    plan = StreamPlan(cpus=(0, 1), elements_per_thread=1 << 16, samples=2, passes=2,
                      block_elements=4096, memory_budget_bytes=64 * MIB, processes=True,
                      one_pass_triad=True)
    result = run_stream(plan)
    assert len(result.kernels["triad"].samples) == 2 and result.kernels["triad"].best > 0.1


def test_moe_replay_with_forked_worker_processes():
    plan = MoePlan(experts=4, cpus=(0, 1), hidden=512, intermediate=64, top_k=2,
                   layers_per_sample=2, samples=3, processes=True)
    assert len(run_moe_replay(plan).measurement.samples) == 3


def test_worker_process_error_reaches_the_caller():
    def step(state, name):
        raise ValueError("boom in a child")

    with pytest.raises(ValueError, match="boom in a child"):
        Team((0, 1), lambda i, cpu: None, step, FakeClock(), processes=True).run(["x"], 3, "t")


def test_process_team_time_budget():
    team = Team((0, 1), lambda i, cpu: None, lambda s, n: None, FakeClock(step=1.0), processes=True)
    stamps = team.run(["x"], rounds=1000, stage="t", seconds=5.0, min_rounds=3)
    assert 3 <= len(stamps) < 1000


def test_plan_switches_to_processes_on_many_cores():
    system = SystemInfo(l3_cache_bytes=32 * MIB, memory_available_bytes=64 << 30)
    assert not plan_stream(True, system, cpus=range(8)).processes
    assert plan_stream(True, system, cpus=range(64)).processes


def test_moe_plan_on_a_small_machine_stays_within_budget():
    plan = plan_moe_replay(True, SystemInfo(l3_cache_bytes=32 * MIB), budget_bytes=96 * MIB,
                           cpus=(0, 1))
    assert plan.pool_bytes <= 96 * MIB and plan.experts >= 16
    assert plan.intermediate % 2 == 0 and plan.notes


def test_huge_page_share_is_reported():
    result = run_stream(small_plan(n=1 << 20))  # 8 MiB arrays: large enough for THP
    share = result.huge_page_share
    assert share is None or 0.0 <= share <= 1.0


def test_huge_pages_read_from_smaps_rollup():
    from probes._hugepages import anon_huge_bytes
    assert anon_huge_bytes(FakeSources("arm64-neoverse-n1")) is None  # not captured: unknown


def test_smt_siblings_share_one_worker():
    from probes.memory import one_cpu_per_core
    siblings = {f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list": "0-1\n"
                for c in (0, 1)}  # both CPUs of this machine as two threads of one core
    assert one_cpu_per_core(FakeSources("arm64-neoverse-n1", extra=siblings)) == (0,)
