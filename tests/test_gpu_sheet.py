"""One vendor-sheet table for the GPU probe and the calibration/spec readers."""

from __future__ import annotations

import pytest

from probes.gpu import vendor_sheet
from probes.gpu_sheet import GPU_SHEETS, sheet_for


@pytest.mark.parametrize("name, memory_type, bf16, bandwidth", [
    ("NVIDIA H100 80GB HBM3", "HBM3", 989.4, 3350),  # NVML names from the host captures
    ("NVIDIA H100 NVL", "HBM3", 835.5, 3900),
    ("NVIDIA H100 PCIe", "HBM2e", 756.5, 2000),
    ("NVIDIA A100-SXM4-80GB", "HBM2e", 312.0, 2039),
    ("NVIDIA A100-SXM4-40GB", "HBM2", 312.0, 1555),
    ("NVIDIA GeForce RTX 4090", "GDDR6X", 165.2, 1008),
    ("NVIDIA GeForce RTX 4090 D", "GDDR6X", 147.0, 1008),
    ("NVIDIA GeForce RTX 3090", "GDDR6X", 71.0, 936),
    ("NVIDIA GH200 480GB", "HBM3", 989.4, 4000),
    ("NVIDIA H200", "HBM3e", 989.0, 4800),
    ("NVIDIA H20", "HBM3", 148.0, 4000),
    ("NVIDIA L40S", "GDDR6", 362.05, 864),
    ("NVIDIA L4", "GDDR6", 121.0, 300),
    ("NVIDIA A10", "GDDR6", 125.0, 600),
    ("NVIDIA GeForce RTX 3090 Ti", "GDDR6X", 80.0, 1008),
    ("NVIDIA A100 80GB PCIe", "HBM2e", 312.0, 1935),
    ("NVIDIA A100-PCIE-40GB", "HBM2", 312.0, 1555),
    ("NVIDIA H800 PCIe", "HBM2e", 756.5, 2000),
    ("NVIDIA GH200 144G HBM3e", "HBM3e", 989.4, 4900),
    ("RTX 5090D 32GB", "GDDR7", 148.4, 1792),  # names as calibration rows write them
    ("RTX 4090D 24GB", "GDDR6X", 147.0, 1008),
    ("H800 80GB", "HBM3", 989.0, 3350),
    ("NVIDIA GB10", "LPDDR5X", 125.0, 273),
])
def test_names_find_their_own_sheet(name, memory_type, bf16, bandwidth):
    sheet = sheet_for(name)
    assert sheet is not None
    assert (sheet.memory_type, sheet.bf16_tflops, sheet.bandwidth_gbs) == (memory_type, bf16, bandwidth)
    assert vendor_sheet(name) == (memory_type, bf16)


def test_unknown_names_have_no_sheet():
    for name in (None, "", "NVIDIA Quadro P400", "NVIDIA A10G", "AMD Instinct MI300X",
                 "NVIDIA GeForce RTX 4090 Laptop GPU", "NVIDIA GeForce RTX 3080 Ti Laptop GPU"):
        assert sheet_for(name) is None


def test_no_entry_is_hidden_behind_an_earlier_pattern():
    """Every pattern, written as a name, must reach its own entry (specific before general)."""
    for sheet in GPU_SHEETS:
        name = (sheet.pattern.replace(r"\s*", " ").replace(r"\b", "").replace(".*", " ")
                .replace("(144|HBM3e)", "144"))
        assert sheet_for(name) is sheet, sheet.pattern


def test_unified_entries_use_host_memory():
    for sheet in GPU_SHEETS:
        assert (sheet.memory_gb == 0) == sheet.unified
        assert sheet.bandwidth_gbs > 0 and sheet.bf16_tflops > 0


@pytest.mark.parametrize("name", ["NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
                                  "NVIDIA RTX PRO 6000 Blackwell Server Edition", "RTX PRO 6000 Blackwell"])
def test_rtx_pro_6000_editions_including_the_desktop_max_q(name):
    """NVIDIA calls a 300 W desktop card Max-Q too; it keeps the full 96 GB and 1792 GB/s."""
    sheet = sheet_for(name)
    assert sheet is not None and (sheet.memory_gb, sheet.bandwidth_gbs) == (96, 1792)
