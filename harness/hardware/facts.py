"""Hardware facts that are not per-part sheets: CPU FLOP/cycle by ISA, the share of theoretical
bandwidth STREAM reaches on servers, the CPU flags that give int8 dot products, memory channels per socket by CPU family."""

from __future__ import annotations

import re


# STREAM triad reaches about this share of channels × MT/s × 8 B on servers: calibration rows
# ik_9355_qwen235_iq6k_cpu / lcpp_9355_qwen235_q6k_cpu (likwid ~500 of 576 GB/s = 0.87) and
# ik_6980p_* (mlc 554.8 of 614.4 GB/s for 12ch DDR5-6400 = 0.90); we take the lower, 0.87.
PLATFORM_STREAM_EFF = 0.87


# CPU peak FP32 FLOP/cycle/core when no GEMM was measured: AVX-512 two FMA units = 2·16·2,
# AVX2 two FMA units = 2·8·2 (Intel/AMD optimisation manuals); clock assumed 2.5 GHz.
FLOPS_PER_CYCLE = {"avx512f": 64.0, "avx2": 32.0}


DEFAULT_FLOPS_PER_CYCLE = 32.0


ASSUMED_CLOCK_GHZ = 2.5


# CPU flags that give one-instruction int8 dot products (harness.hardware.cpu_catalog, the note above CpuRating)
INT8_DOT_FLAGS = ("avx512_vnni", "avx512vnni", "avx_vnni", "avxvnni", "asimddp")


# Memory channels (64-bit) per socket by CPU family, from the vendors' product pages.
_CHANNEL_TABLE: tuple[tuple[str, int], ...] = (
    (r"EPYC 9\d\d\d", 12),  # AMD EPYC 9004/9005 (Genoa, Bergamo, Turin): 12 x DDR5
    (r"EPYC 8\d\d4", 6),  # EPYC 8004 (Siena): 6 x DDR5
    (r"EPYC 7\d\d\d", 8),  # EPYC 7001/7002/7003 (Naples, Rome, Milan): 8 x DDR4
    (r"EPYC 4\d\d4", 2),  # EPYC 4004 (AM5): 2 x DDR5
    (r"Xeon.*\b69\d\d[PE]", 12),  # Xeon 6900P/E (Granite Rapids-AP, Sierra Forest-AP)
    (r"Xeon.*\b67\d\d[PE]", 8),  # Xeon 6700P/E
    (r"Xeon.*(Platinum 8[1-2]|Gold [56][1-2]|Silver 4[1-2]|Bronze 3[1-2])\d\d", 6),  # Skylake/Cascade Lake-SP
    (r"Xeon.*(Platinum 8[3-5]|Gold [56][3-5]|Silver 4[3-5]|Bronze 3[3-5]|Max 94)\d\d", 8),  # Ice Lake, Sapphire/Emerald Rapids
    (r"Xeon.*(X7\d\d\d|E7-)", 4),  # Nehalem/Westmere-EX, E7
    (r"Kunpeng-920", 8),  # HiSilicon Kunpeng 920: 8 x DDR4
    (r"Threadripper PRO", 8),
    (r"Threadripper", 4),
    (r"Ryzen AI Max", 4),  # Strix Halo: 256-bit LPDDR5X = 4 x 64-bit
    (r"Ryzen|Core\(TM\)|Core i\d|Core Ultra", 2),  # desktops and laptops: dual channel
)


def max_channels_per_socket(cpu_model: str | None) -> int | None:
    """Channels one socket of this CPU model drives (64-bit channels), None when unknown."""
    for pattern, channels in _CHANNEL_TABLE:
        if cpu_model and re.search(pattern, cpu_model):
            return channels
    return None
