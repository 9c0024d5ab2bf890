"""Rated figures of GPUs from their vendors' sheets: one table for every reader.

The GPU probe reads it for what NVML does not report (memory type, dense BF16 TFLOPS); the
calibration set reads it for the rows that name a GPU without its numbers. Each entry
says where its figures come from. A name is matched by the first pattern (case-insensitive
regular expression, searched in the name) that fits, so more specific patterns come first.

BF16 figures are dense tensor throughput without sparsity: NVIDIA H100 datasheet (SXM 989.4, PCIe
756.5, NVL 835.5: half the "with sparsity" 1979/1513/1671); Ada GPU architecture whitepaper v2.1
Table 2 (RTX 4090: 165.2 with FP32 accumulate); Ampere GA102 whitepaper Table 9 (RTX 3090: 71);
RTX Blackwell whitepaper (RTX 5090: 209.5); each other entry names its sheet beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GPU_SHEETS", "GpuSheet", "sheet_for"]


@dataclass(frozen=True)
class GpuSheet:
    """One GPU's rated figures; ``memory_gb`` 0 with ``unified`` means it uses host memory."""

    pattern: str
    memory_type: str
    memory_gb: float
    bandwidth_gbs: float
    bf16_tflops: float  # dense tensor BF16/FP16, no sparsity
    unified: bool = False


GPU_SHEETS: tuple[GpuSheet, ...] = (
    GpuSheet(r"GH200.*(144|HBM3e)", "HBM3e", 144, 4900, 989.4),  # NVIDIA GH200 datasheet (144 GB HBM3e)
    GpuSheet(r"GH200", "HBM3", 96, 4000, 989.4),  # NVIDIA GH200 Grace Hopper datasheet (96 GB HBM3)
    GpuSheet(r"H200", "HBM3e", 141, 4800, 989.0),  # NVIDIA H200 datasheet
    GpuSheet(r"H800.*PCIe", "HBM2e", 80, 2000, 756.5),  # NVIDIA H800 PCIe brief (H100 PCIe silicon)
    GpuSheet(r"H800", "HBM3", 80, 3350, 989.0),  # NVIDIA H800 SXM brief (H100 SXM silicon, reduced NVLink)
    GpuSheet(r"H100.*NVL", "HBM3", 94, 3900, 835.5),  # NVIDIA H100 NVL datasheet
    GpuSheet(r"H100.*PCIe", "HBM2e", 80, 2000, 756.5),  # NVIDIA H100 PCIe datasheet
    GpuSheet(r"H100", "HBM3", 80, 3350, 989.4),  # NVIDIA H100 SXM datasheet
    GpuSheet(r"H20\b", "HBM3", 96, 4000, 148.0),  # NVIDIA H20 product brief
    GpuSheet(r"B200", "HBM3e", 180, 8000, 2250.0),  # NVIDIA DGX B200 datasheet: 1440 GB, 64 TB/s for 8 GPUs
    GpuSheet(r"A100.*40GB", "HBM2", 40, 1555, 312.0),  # NVIDIA A100 datasheet (40 GB SXM and PCIe)
    GpuSheet(r"A100.*PCIe", "HBM2e", 80, 1935, 312.0),  # NVIDIA A100 datasheet (80 GB PCIe)
    GpuSheet(r"A100", "HBM2e", 80, 2039, 312.0),  # NVIDIA A100 80GB SXM datasheet
    GpuSheet(r"A10\b", "GDDR6", 24, 600, 125.0),  # NVIDIA A10 datasheet
    GpuSheet(r"L40S", "GDDR6", 48, 864, 362.05),  # NVIDIA L40S datasheet
    GpuSheet(r"L4\b", "GDDR6", 24, 300, 121.0),  # NVIDIA L4 datasheet
    # NVIDIA RTX Blackwell whitepaper: 5090 class, 512-bit GDDR7 at 28 Gbps. The 5090 D's tensor rate
    # is capped: 2375 AI TOPS against the 5090's 3352 (NVIDIA product pages), so 209.5 x 2375/3352.
    GpuSheet(r"5090\s*D\b", "GDDR7", 32, 1792, 148.4),
    # RTX PRO 6000 Blackwell (Workstation, Max-Q Workstation and Server editions): the same GB202 with
    # 188 SMs and 96 GB of 512-bit GDDR7 at 28 Gbps (1792 GB/s); 4000 AI TOPS (FP4, sparse) scaled as
    # the 5090's 3352 -> 209.5 gives 250 TFLOPS BF16 dense. The Max-Q edition is held to 300 W (600 W
    # for the Workstation edition), so for it 250 is a ceiling, not a sustained rate.
    GpuSheet(r"RTX\s*PRO\s*6000", "GDDR7", 96, 1792, 250.0),
    GpuSheet(r"5090", "GDDR7", 32, 1792, 209.5),
    # 4090 D: 114 SMs against the 4090's 128, the same 384-bit GDDR6X at 21 Gbps
    GpuSheet(r"4090\s*D\b", "GDDR6X", 24, 1008, 147.0),
    GpuSheet(r"4090", "GDDR6X", 24, 1008, 165.2),  # NVIDIA Ada Lovelace whitepaper, FP16 tensor dense (FP16 acc)
    # Ada AD104: 60 SMs at 2.61 GHz, the 4090's FP16-accumulate tensor rate per SM-GHz; 192-bit 21 Gbps
    GpuSheet(r"4070\s*Ti(?!\s*S)", "GDDR6X", 12, 504, 80.2),
    GpuSheet(r"3090\s*Ti", "GDDR6X", 24, 1008, 80.0),  # NVIDIA RTX 3090 Ti spec: 21 Gbps, 84 SMs
    # Ampere GA106/GA104 (NVIDIA spec pages; dense = half the "sparse" tensor figure): RTX 3060 12 GB,
    # 192-bit 15 Gbps; RTX A4000 16 GB, 256-bit 14 Gbps, 153.4 sparse
    GpuSheet(r"3060(?!\s*Ti)", "GDDR6", 12, 360, 51.0),
    GpuSheet(r"\bA4000\b", "GDDR6", 16, 448, 76.7),
    # AMD Radeon AI PRO R9700: 32 GB, 256-bit 20 Gbps GDDR6; 191 TFLOPS FP16 with sparsity, so ~96 dense
    GpuSheet(r"R9700", "GDDR6", 32, 640, 96.0),
    GpuSheet(r"3090", "GDDR6X", 24, 936, 71.0),  # NVIDIA Ampere GA102 whitepaper, FP16 tensor dense (FP16 acc)
    # NVIDIA DGX Spark spec: 128 GB LPDDR5X at 273 GB/s; 1 PFLOP FP4 with sparsity = 500 dense, halved
    # per doubling of the operand width: 125 TFLOPS BF16 dense
    GpuSheet(r"GB10\b", "LPDDR5X", 0, 273, 125.0, unified=True),
    GpuSheet(r"M2 Ultra", "LPDDR5", 0, 800, 27.0, unified=True),  # Apple M2 Ultra: 800 GB/s, 76-core GPU
    GpuSheet(r"M2 Max", "LPDDR5", 0, 400, 13.6, unified=True),  # Apple M2 Max: 400 GB/s, 38-core GPU
    GpuSheet(r"M3 Ultra", "LPDDR5", 0, 819, 28.0, unified=True),  # Apple M3 Ultra: 819 GB/s
    GpuSheet(r"M1 Ultra", "LPDDR5", 0, 800, 21.0, unified=True),  # Apple M1 Ultra: 800 GB/s, 64-core GPU 21 TFLOPS
    # AMD Ryzen AI Max+ 395: 256-bit LPDDR5X-8000, Radeon 8060S with 40 RDNA 3.5 CUs
    GpuSheet(r"8060S", "LPDDR5X", 0, 256, 59.0, unified=True),
)


# Laptop parts share desktop names but not their memory or clocks: unknown rather than wrong.
_MOBILE = re.compile(r"Laptop|Mobile|Max-Q", re.IGNORECASE)
# ... except desktop cards that NVIDIA also calls Max-Q (the RTX PRO 6000 Blackwell Max-Q Workstation
# Edition is a 300 W desktop card with the full 96 GB).
_DESKTOP_MAX_Q = re.compile(r"RTX\s*PRO\s*6000", re.IGNORECASE)


def sheet_for(name: str | None) -> GpuSheet | None:
    """The rated figures for a GPU name, or None when moebench does not know it."""
    if not name or (_MOBILE.search(name) and not _DESKTOP_MAX_Q.search(name)):
        return None
    return next((s for s in GPU_SHEETS if re.search(s.pattern, name, re.IGNORECASE)), None)
