"""GPU probe through a fake NVML replaying real ``nvidia-smi -q`` captures."""

from __future__ import annotations

import json

import pytest

from probe_fakes import FakeNvml
from probes.gpu import collect_gpus, theoretical_bandwidth, vendor_sheet


def test_h100_sxm_node():
    report = collect_gpus(FakeNvml("h100-sxm-8gpu"))
    assert report.available and report.reason is None
    assert (report.driver_version, report.cuda_version) == ("565.57.01", "12.7")
    assert len(report.gpus) == 8
    g = report.gpus[0]
    assert g.name == "NVIDIA H100 80GB HBM3" and g.memory_total_bytes == 81559 << 20
    # 5120-bit HBM3 x 2619 MHz x 2 = 3352 GB/s; NVIDIA's H100 SXM sheet says 3.35 TB/s
    assert g.theoretical_bandwidth_gbs == pytest.approx(3352.3, abs=0.1)
    assert g.bf16_tflops == pytest.approx(989.4)
    assert (g.pcie_gen_max, g.pcie_width_max, g.power_limit_w) == (5, 16, 700.0)
    assert g.ecc_enabled is True and g.mig_enabled is False and g.measured_bandwidth_gbs is None


def test_consumer_rtx4090():
    g = collect_gpus(FakeNvml("rtx4090-8gpu")).gpus[3]
    assert g.memory_type == "GDDR6X"
    assert g.theoretical_bandwidth_gbs == pytest.approx(1008.1, abs=0.1)  # sheet: 1008 GB/s
    assert g.pcie_gen_current == 1 and g.pcie_gen_max == 4  # idle link, as captured
    assert g.ecc_enabled is False and g.mig_enabled is None


@pytest.mark.parametrize("host, peak", [("a100-sxm4-4gpu", 2039.0), ("rtx3090-2gpu", 936.1)])
def test_theoretical_bandwidth_matches_vendor_sheets(host, peak):
    assert collect_gpus(FakeNvml(host)).gpus[0].theoretical_bandwidth_gbs == pytest.approx(peak, abs=0.1)


def test_missing_nvml_library_is_a_normal_result():
    report = collect_gpus(FakeNvml(unavailable="NVML library not found (no NVIDIA driver installed)"))
    assert not report.available and "NVML library not found" in report.reason
    assert report.to_dict()["gpus"] == []


def test_no_gpu():
    nvml = FakeNvml()
    report = collect_gpus(nvml)
    assert not report.available and report.reason == "no NVIDIA GPU" and nvml.shut


def test_to_dict_is_json():
    d = collect_gpus(FakeNvml("h100-sxm-8gpu")).to_dict()
    assert set(d) == {"available", "reason", "driver_version", "cuda_version", "gpus", "links"}
    assert json.loads(json.dumps(d))["gpus"][0]["compute_capability"] == "9.0"


def test_this_machine_never_raises():
    report = collect_gpus()
    assert report.available or report.reason


def test_unknown_gpu_has_no_sheet_figures():
    assert vendor_sheet("NVIDIA Quadro P400") == (None, None)
    assert theoretical_bandwidth(None, 2619, "HBM3") is None


def test_nvlink_mesh_from_a_real_topology():
    report = collect_gpus(FakeNvml("a100-8gpu-nvlink"))
    assert len(report.gpus) == 8 and len(report.links) == 28  # every pair of 8
    link = report.links[0]
    assert (link.a, link.b, link.kind, link.nvlinks) == (0, 1, "NV12", 12)
    assert link.bandwidth_gbs == 300.0  # 12 NVLink3 links x 25 GB/s per direction
    assert report.to_dict()["links"][0]["kind"] == "NV12"


def test_pcie_only_gpus():
    report = collect_gpus(FakeNvml("a10-4gpu-pcie"))
    assert {x.kind for x in report.links} == {"SYS"}
    assert all(x.bandwidth_gbs is None and x.nvlinks == 0 for x in report.links)


def test_every_pynvml_name_the_probe_calls_exists():
    """The real NVML wrapper turns AttributeError into None, so a misspelt call would hide as
    'not reported' on every GPU: check the names against nvidia-ml-py itself."""
    import re
    from pathlib import Path

    pynvml = pytest.importorskip("pynvml")
    import probes._nvml as nvml_module

    source = Path(nvml_module.__file__).read_text()
    names = set(re.findall(r"\bnv\.(nvml\w+|NVML_\w+)", source))
    assert len(names) > 20
    assert sorted(n for n in names if not hasattr(pynvml, n)) == []
