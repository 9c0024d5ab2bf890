"""One vendor-sheet table for the GPU probe and the calibration/spec readers."""

from __future__ import annotations

import pytest

from probes.gpu import vendor_sheet
from harness.hardware.gpu_sheet import GPU_SHEETS, sheet_for


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
    # NVIDIA datacenter, as NVML prints them
    ("NVIDIA GB200", "HBM3e", 2500.0, 8000),
    ("NVIDIA GB300", "HBM3e", 2500.0, 8000),
    ("NVIDIA B300 SXM6 AC", "HBM3e", 2250.0, 8000),
    ("NVIDIA B200", "HBM3e", 2250.0, 8000),
    ("NVIDIA A800-SXM4-80GB", "HBM2e", 312.0, 2039),
    ("NVIDIA A800 80GB PCIe", "HBM2e", 312.0, 1935),
    ("NVIDIA A800 40GB Active", "HBM2", 312.0, 1555),
    ("NVIDIA A40", "GDDR6", 149.7, 696),
    ("NVIDIA A30", "HBM2", 165.0, 933),
    ("NVIDIA A10G", "GDDR6", 70.0, 600),
    ("NVIDIA L20", "GDDR6", 119.5, 864),
    ("Tesla V100-SXM2-32GB", "HBM2", 125.0, 900),
    ("Tesla V100-SXM2-16GB", "HBM2", 125.0, 900),
    ("Tesla V100-PCIE-32GB", "HBM2", 112.0, 900),
    ("Tesla V100-PCIE-16GB", "HBM2", 112.0, 900),
    ("Tesla V100S-PCIE-32GB", "HBM2", 130.0, 1134),
    ("Tesla T4", "GDDR6", 65.0, 320),
    ("Tesla P100-SXM2-16GB", "HBM2", 21.2, 732),
    ("Tesla P100-PCIE-16GB", "HBM2", 18.7, 732),
    ("Tesla P100-PCIE-12GB", "HBM2", 18.7, 549),
    ("Tesla P40", "GDDR5", 11.76, 346),
    ("Jetson AGX Orin 64GB", "LPDDR5", 42.5, 204.8),
    # NVIDIA workstation
    ("NVIDIA RTX 6000 Ada Generation", "GDDR6", 364.2, 960),
    ("NVIDIA RTX 5000 Ada Generation", "GDDR6", 261.1, 576),
    ("NVIDIA RTX 4000 Ada Generation", "GDDR6", 106.9, 360),
    ("NVIDIA RTX A6000", "GDDR6", 154.8, 768),
    ("NVIDIA RTX A5000", "GDDR6", 111.1, 768),
    # NVIDIA GeForce
    ("NVIDIA GeForce RTX 5090", "GDDR7", 209.5, 1792),
    ("NVIDIA GeForce RTX 5080", "GDDR7", 112.6, 960),
    ("NVIDIA GeForce RTX 5070 Ti", "GDDR7", 87.9, 896),
    ("NVIDIA GeForce RTX 5070", "GDDR7", 61.7, 672),
    ("NVIDIA GeForce RTX 5060 Ti", "GDDR7", 47.4, 448),
    ("NVIDIA GeForce RTX 4080 SUPER", "GDDR6X", 104.4, 736),
    ("NVIDIA GeForce RTX 4080", "GDDR6X", 97.5, 716.8),
    ("NVIDIA GeForce RTX 4070 Ti SUPER", "GDDR6X", 88.2, 672),
    ("NVIDIA GeForce RTX 4070 Ti", "GDDR6X", 80.2, 504),
    ("NVIDIA GeForce RTX 4060 Ti", "GDDR6", 44.1, 288),
    ("NVIDIA GeForce RTX 3080 Ti", "GDDR6X", 68.2, 912),
    ("NVIDIA GeForce RTX 3080", "GDDR6X", 59.5, 760),
    ("RTX 3080 12GB", "GDDR6X", 61.3, 912),
    ("NVIDIA GeForce RTX 2080 Ti", "GDDR6", 53.8, 616),
    # AMD (names as rocm-smi and the calibration rows write them)
    ("AMD Instinct MI355X", "HBM3e", 2516.6, 8000),
    ("AMD Instinct MI325X", "HBM3e", 1307.4, 6000),
    ("AMD Instinct MI300X", "HBM3", 1307.4, 5300),
    ("AMD Instinct MI250X", "HBM2e", 383.0, 3276.8),
    ("AMD Instinct MI210", "HBM2e", 181.0, 1638.4),
    ("AMD Instinct MI100", "HBM2", 92.3, 1228.8),
    ("AMD Radeon RX 7900 XTX", "GDDR6", 122.8, 960),
    ("AMD Radeon RX 7900 XT", "GDDR6", 103.0, 800),
    ("AMD Radeon PRO W7900", "GDDR6", 122.6, 864),
    ("AMD Radeon RX 9070 XT", "GDDR6", 194.7, 640),
    # Intel, Apple
    ("Intel(R) Arc(TM) B580 Graphics", "GDDR6", 116.5, 456),
    ("Apple M4 Max", "LPDDR5X", 18.4, 546),
    ("Apple M4 Pro", "LPDDR5X", 9.2, 273),
    ("Apple M3 Max", "LPDDR5", 14.3, 400),
    ("Apple M3 Pro", "LPDDR5", 6.4, 150),
    ("Apple M2 Pro", "LPDDR5", 6.8, 200),
    ("Apple M1 Max", "LPDDR5", 10.4, 400),
    ("Apple M1 Pro", "LPDDR5", 5.2, 200),
])
def test_names_find_their_own_sheet(name, memory_type, bf16, bandwidth):
    sheet = sheet_for(name)
    assert sheet is not None
    assert (sheet.memory_type, sheet.bf16_tflops, sheet.bandwidth_gbs) == (memory_type, bf16, bandwidth)
    assert vendor_sheet(name) == (memory_type, bf16)


@pytest.mark.parametrize("name", [
    None, "", "NVIDIA Quadro P400",
    # laptop parts share desktop names, not their memory or clocks
    "NVIDIA GeForce RTX 4090 Laptop GPU", "NVIDIA GeForce RTX 3080 Ti Laptop GPU",
    "NVIDIA GeForce RTX 5080 Laptop GPU", "NVIDIA RTX A5000 Laptop GPU",
    # near neighbours of known names that are other parts, with other figures
    "NVIDIA RTX 4000 SFF Ada Generation", "NVIDIA L20X", "Jetson AGX Orin 32GB",
    "Intel(R) Arc(TM) A770 Graphics", "Apple M4", "AMD Radeon RX 9070",
])
def test_unknown_names_have_no_sheet(name):
    assert sheet_for(name) is None


def test_the_three_rtx_6000_generations_each_reach_their_own_entry():
    """Ampere RTX A6000, Ada RTX 6000 and Blackwell RTX PRO 6000 share a number, not their figures."""
    a6000, ada, pro = (sheet_for(n) for n in ("NVIDIA RTX A6000", "NVIDIA RTX 6000 Ada Generation",
                                              "NVIDIA RTX PRO 6000 Blackwell"))
    assert a6000 and ada and pro and len({a6000.pattern, ada.pattern, pro.pattern}) == 3
    assert [(s.memory_type, s.memory_gb) for s in (a6000, ada, pro)] == [("GDDR6", 48), ("GDDR6", 48), ("GDDR7", 96)]


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
    # workstation Blackwell: full-rate FP32-accumulate BF16, 4000 (Max-Q 3511) AI TOPS FP4 sparse / 8
    assert sheet.bf16_tflops == (439.0 if "Max-Q" in name else 500.0)


def test_radeon_ai_pro_r9700_is_rated_dense():
    """AMD's 191 TFLOPS FP16 for the R9700 is the dense matrix rate (its 9070 XT sibling: 779 INT8 TOPS
    sparse -> 194.7 dense); halving it again would slow its predicted GPU floors."""
    sheet = sheet_for("AMD Radeon AI PRO R9700")
    assert sheet is not None and sheet.bf16_tflops == 191.0


def test_a_capacity_in_the_name_is_the_cards_own():
    assert sheet_for("NVIDIA H20 141GB").memory_gb == 141  # the HBM3e variant of the 96 GB part
    assert sheet_for("NVIDIA H20").memory_gb == 96
    assert sheet_for("NVIDIA GH200 480GB").memory_gb == 96  # 480 counts the Grace LPDDR5X
