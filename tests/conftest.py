"""Shared fixtures: a probe report replaying real readings, isolated store location."""

from __future__ import annotations

import copy
from typing import Any

import pytest

# A probe report as `moebench probe --json` writes it (contract in probes/runner.py), with
# figures of a real 2-socket EPYC 9355 server: 24 channels DDR5-6400 (1228.8 GB/s peak).
FAKE_PROBE: dict[str, Any] = {
    "kind": "moebench-probe", "schema_version": 1, "started_at": "2026-11-25T08:00:00+00:00", "duration_s": 12.0,
    "system": {
        "hostname": "lab-node-7", "cpu_model": "AMD EPYC 9355 32-Core Processor", "cpu_vendor": "AuthenticAMD",
        "architecture": "x86_64", "sockets": 2, "cores_per_socket": 32, "cores": 64, "threads": 128,
        "numa_nodes": 2, "l3_cache_bytes": 2 * 256 * 2**20, "cpu_flags": ["avx2", "avx512f", "avx512_bf16"],
        "memory_total_bytes": 1152 * 10**9, "memory_available_bytes": 1100 * 10**9, "kernel": "6.8.0",
        "governor": "performance", "thp": "always", "numa_balancing": False, "smt": True,
        "bios_vendor": "Dell Inc.", "bios_version": "1.9.2", "bios_date": "05/06/2025",
        "product_name": "PowerEdge R7725", "dimms": [], "memory_type": "DDR5", "memory_speed_mts": 6400,
        "memory_channels": 24, "theoretical_bandwidth_gbs": 1228.8, "missing": {},
    },
    "gpu": {"available": True, "reason": None, "driver_version": "570.86", "cuda_version": "12.8", "gpus": [{
        "index": 0, "name": "NVIDIA GeForce RTX 5090 D", "memory_total_bytes": 32 * 2**30,
        "theoretical_bandwidth_gbs": 1792.0, "bf16_tflops": 209.0, "pcie_gen_max": 5, "pcie_width_max": 16,
        "measured_bandwidth_gbs": None}]},
    "probes": {
        "stream_copy": {"samples": [880.0, 900.0, 905.0], "best": 905.0, "median": 900.0, "cv": 0.01, "unit": "GB/s"},
        "stream_triad": {"samples": [960.0, 975.0, 980.0], "best": 980.0, "median": 975.0, "cv": 0.01, "unit": "GB/s"},
        "gemm_fp32": {"samples": [9000.0, 9500.0], "best": 9500.0, "median": 9250.0, "cv": 0.03, "unit": "GFLOP/s"},
    },
    "settings": {"quick": True, "threads": 64, "array_bytes": 3 * 2**30, "repeats": 3},
    "notes": [],
}


class FakeReport:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)


@pytest.fixture
def fake_probe() -> dict[str, Any]:
    return copy.deepcopy(FAKE_PROBE)


@pytest.fixture
def fake_probe_fn():
    """A drop-in for probes.runner.run_probes returning the fake report (no hardware touched)."""
    def run(quick: bool = False, progress=None, **_: Any) -> FakeReport:
        if progress:
            progress("stream", 1, 1)
        return FakeReport(FAKE_PROBE)
    return run


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory, monkeypatch):
    """Never write into the user's real results store from tests."""
    path = tmp_path_factory.mktemp("store") / "moebench.sqlite"
    monkeypatch.setenv("MOEBENCH_STORE", f"sqlite:///{path}")
