"""Hardware facts that are not per-part sheets: CPU FLOP/cycle by ISA, the share of theoretical
bandwidth STREAM reaches on servers, the CPU flags that give int8 dot products."""

from __future__ import annotations


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
