"""Rated figures of GPUs named in calibration rows and spec files, from vendor sheets.

Used when a calibration row or a spec names a GPU without its numbers. Each entry: memory GB,
memory bandwidth GB/s, dense BF16/FP16 tensor TFLOPS, unified memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuRating:
    memory_gb: float
    bandwidth_gbs: float
    bf16_tflops: float
    unified: bool = False


# Order matters: more specific names first (matched as lower-case substrings).
GPU_RATINGS: tuple[tuple[str, GpuRating], ...] = (
    ("5090d", GpuRating(32, 1792, 209)),  # NVIDIA RTX Blackwell whitepaper (5090 class, 512-bit GDDR7 28 Gbps)
    ("5090", GpuRating(32, 1792, 209)),
    ("4090d", GpuRating(24, 1008, 147)),  # 4090D: 114 SMs vs 128 on the 4090; same 384-bit GDDR6X 21 Gbps
    ("4090", GpuRating(24, 1008, 165)),  # NVIDIA Ada Lovelace whitepaper, FP16 tensor dense (FP16 acc)
    ("3090", GpuRating(24, 936, 71)),  # NVIDIA Ampere GA102 whitepaper, FP16 tensor dense (FP16 acc)
    ("h200", GpuRating(141, 4800, 989)),  # NVIDIA H200 datasheet
    ("h800", GpuRating(80, 3350, 989)),  # NVIDIA H800 SXM brief (H100 SXM silicon, reduced NVLink)
    ("h100 nvl", GpuRating(94, 3900, 835)),  # NVIDIA H100 NVL datasheet
    ("h100 pcie", GpuRating(80, 2000, 756)),  # NVIDIA H100 PCIe datasheet
    ("h100", GpuRating(80, 3350, 989)),  # NVIDIA H100 SXM datasheet
    ("h20", GpuRating(96, 4000, 148)),  # NVIDIA H20 product brief
    ("a100", GpuRating(80, 2039, 312)),  # NVIDIA A100 80GB SXM datasheet
    ("gb10", GpuRating(0, 273, 100, True)),  # NVIDIA DGX Spark spec: 128 GB LPDDR5X 273 GB/s; ~100 TFLOPS BF16 dense (1 PFLOP FP4 sparse)
    ("m2 ultra", GpuRating(0, 800, 27, True)),  # Apple M2 Ultra: 800 GB/s; 76-core GPU ~27 TFLOPS FP16
    ("m2 max", GpuRating(0, 400, 13.6, True)),  # Apple M2 Max: 400 GB/s; 38-core GPU ~13.6 TFLOPS
    ("m3 ultra", GpuRating(0, 819, 28, True)),  # Apple M3 Ultra: 819 GB/s
    ("8060s", GpuRating(0, 256, 59, True)),  # AMD Ryzen AI Max+ 395: 256-bit LPDDR5X-8000; 40 CUs RDNA3.5
)


def rating_for(name: str | None) -> GpuRating | None:
    """The rated figures for a GPU name, or None when moebench does not know it."""
    if not name:
        return None
    low = name.lower()
    for key, rating in GPU_RATINGS:
        if key in low:
            return rating
    return None
