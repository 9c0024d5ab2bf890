"""Peak FP32 rates of CPUs named in calibration rows and machine specs.

peak = cores × base clock × FP32 FLOP/cycle/core, where FLOP/cycle is 2 (FMA) × vector lanes ×
FMA pipes: AVX-512 with two 512-bit FMA pipes (Intel Xeon SP, AMD Zen 5) = 64; Zen 4 runs
AVX-512 on 256-bit pipes = 32; AVX2 with two FMA pipes = 32; Apple/Arm with four 128-bit NEON
FMA pipes = 32. Base clocks, core counts and the fastest supported DIMM speed (one DIMM per
channel: EPYC 9005 DDR5-6400, 9004 DDR5-4800, 7003 DDR4-3200; Xeon 6900P DDR5-6400, 4th gen Xeon SP
DDR5-4800, 1st gen DDR4-2666; Xeon 6960P MRDIMM-8800; Ryzen 7000 DDR5-5200, 9000 DDR5-5600): AMD, Intel
and Apple product pages.

Measured here: numpy sgemm on this machine's 2 AMD EPYC cores ran at 253 GFLOP/s against a
nominal 2 × 3.7 GHz × 32 = 237 GFLOP/s, so a probed GEMM rate stands in for the peak directly.
"""

from __future__ import annotations

from dataclasses import dataclass


# Quantised weights are multiplied in int8 on CPUs (llama.cpp/ik_llama.cpp quantise the activations
# to 8 bits and use integer dot products), so their decode compute runs at the int8 dot rate, not the
# FP32 FMA rate. Per 32-bit lane an FMA is 2 FLOP; VNNI's VPDPBUSD (AVX-512 VNNI, AVX-VNNI) and Arm's
# SDOT do 4 int8 multiply-adds = 8 ops at the same issue rate: 4x. Without them (AVX2, AVX-512F on
# Skylake) VPMADDUBSW + VPMADDWD do those 4 multiply-adds in two instructions: 2x. Intel and AMD
# instruction references, Arm A64 SDOT.


@dataclass(frozen=True)
class CpuRating:
    cores: int  # per socket
    base_ghz: float
    flops_per_cycle: float  # FP32, per core
    max_mts: int | None = None  # fastest DIMM speed the platform supports at one DIMM per channel
    int8_dot: float = 4.0  # int8 dot-product ops per FP32 FLOP the core issues (see the note above)


# Matched as lower-case substrings of the CPU model name, most specific first.
CPU_RATINGS: tuple[tuple[str, CpuRating], ...] = (
    ("epyc 9355", CpuRating(32, 3.55, 64, 6400)),  # Zen 5, full-width AVX-512
    ("epyc 9375f", CpuRating(32, 3.8, 64, 6400)),
    ("epyc 9135", CpuRating(16, 3.65, 64, 6400)),
    ("epyc 9965", CpuRating(192, 2.25, 64, 6400)),  # Zen 5c, same AVX-512 datapath as Zen 5
    ("epyc 9575f", CpuRating(64, 3.3, 64, 6400)),
    ("epyc 9555", CpuRating(64, 3.2, 64, 6400)),
    ("epyc 9655", CpuRating(96, 2.6, 64, 6400)),
    ("epyc 9755", CpuRating(128, 2.7, 64, 6400)),
    ("epyc 9174f", CpuRating(16, 4.1, 32, 4800)),  # Zen 4 F-parts
    ("epyc 9274f", CpuRating(24, 4.05, 32, 4800)),
    ("epyc 9374f", CpuRating(32, 3.85, 32, 4800)),
    ("epyc 9474f", CpuRating(48, 3.6, 32, 4800)),
    ("epyc 9654", CpuRating(96, 2.4, 32, 4800)),  # Zen 4
    ("epyc 9554", CpuRating(64, 3.1, 32, 4800)),
    ("epyc 9754", CpuRating(128, 2.25, 32, 4800)),
    ("epyc 7773x", CpuRating(64, 2.2, 32, 3200, int8_dot=2.0)),  # Zen 3, AVX2
    ("epyc 7763", CpuRating(64, 2.45, 32, 3200, int8_dot=2.0)),
    ("epyc 7742", CpuRating(64, 2.25, 32, 3200, int8_dot=2.0)),
    ("xeon 6980p", CpuRating(128, 2.0, 64, 6400)),  # Granite Rapids
    ("platinum 8480", CpuRating(56, 2.0, 64, 4800)),  # Sapphire Rapids
    ("gold 6454s", CpuRating(32, 2.2, 64, 4800)),
    ("gold 6138", CpuRating(20, 2.0, 64, 2666, int8_dot=2.0)),  # Skylake-SP, two FMA units
    ("ryzen 9 7950x", CpuRating(16, 4.5, 32, 5200)),  # Zen 4
    ("ryzen 9 9950x", CpuRating(16, 4.3, 64, 5600)),  # Zen 5 desktop, full-width AVX-512
    ("xeon 6960p", CpuRating(72, 2.7, 64, 8800)),  # Granite Rapids, MRDIMM-8800
    ("ryzen ai max+ 395", CpuRating(16, 3.0, 64)),  # Zen 5 (Strix Halo)
    ("m3 ultra", CpuRating(32, 4.05, 32)),
    ("m2 ultra", CpuRating(24, 3.5, 32)),
)


def rating_for(name: str | None) -> CpuRating | None:
    if not name:
        return None
    low = name.lower()
    return next((r for key, r in CPU_RATINGS if key in low), None)
