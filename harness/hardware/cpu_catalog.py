"""Peak FP32 rates of CPUs named in calibration rows and machine specs.

peak = cores × base clock × FP32 FLOP/cycle/core, where FLOP/cycle is 2 (FMA) × vector lanes ×
FMA pipes:
  64  AVX-512 on two 512-bit FMA pipes: Intel Xeon SP Gold 6xxx/Platinum 8xxx from Skylake-SP on
      (ARK "# of AVX-512 FMA Units: 2"), Sapphire/Emerald/Granite Rapids and Xeon W-3400 (the
      Sapphire Rapids Gold 5400 entries take this value unverified), AMD Zen 5 desktop/server
      (Zen 5c has the same datapath);
  32  Zen 4 (AVX-512 on 256-bit pipes); AVX2 with two FMA pipes (Zen 2/3, Intel client); Xeon
      Silver/Bronze/Gold 5xxx of Skylake-SP, which have ONE AVX-512 FMA unit (Intel ARK
      "# of AVX-512 FMA Units"); Arm with four 128-bit FMA pipes (Apple, Neoverse V2: Grace) or
      two 256-bit SVE pipes (Neoverse V1);
  16  Arm Neoverse N1 (Ampere Altra): two 128-bit NEON FMA pipes (Arm Neoverse N1 software
      optimisation guide).
Base clocks and core counts: AMD product pages (the felixsteinke/cpu-spec-dataset scrape of
amd.com for EPYC 7002/7003/9004, Ryzen and Threadripper PRO 5000WX), Intel ARK (the same
dataset's ark scrape for Xeon SP 1st-4th gen and Xeon W), AMD's EPYC 9005 launch table, Intel's
Xeon 6900P table (as reported by hardwareluxx), HPE QuickSpecs option names for Xeon 6700P,
Ampere's Altra product brief, and NVIDIA's Grace whitepaper (no base clock is published: 3.1 GHz is
the clock implied by its 7.1 TFLOP/s FP64 over 144 cores × 16 FP64 FLOP/cycle).

Fastest supported DIMM speed at one DIMM per channel (max_mts; RDIMM, not MRDIMM, except where an
entry says so): EPYC 7002/7003 DDR4-3200; EPYC 9004 DDR5-4800; EPYC 9005 DDR5-6400;
Threadripper PRO 5000WX DDR4-3200, PRO 7000WX DDR5-5200, PRO 9000WX DDR5-6400; Ryzen 5000
DDR4-3200, Ryzen 7000 DDR5-5200, Ryzen 9000 DDR5-5600; Xeon SP 1st gen (Skylake) DDR4-2666
(Gold 5xxx/Silver DDR4-2400), 2nd gen (Cascade Lake, Platinum 82xx/Gold 62xx) DDR4-2933, 3rd gen
(Ice Lake, Platinum 83xx/Gold 63xx) DDR4-3200, 4th gen (Sapphire Rapids, Platinum 84xx/Gold 64xx)
and Xeon W-3400 DDR5-4800, 5th gen (Emerald Rapids) Platinum DDR5-5600 (Gold 6530 DDR5-4800);
Xeon 6700P DDR5-6400 (MRDIMM-8000), Xeon 6900P DDR5-6400 (6952P DDR5-5600; MRDIMM-8800 on all,
and the 6960P entry carries that MRDIMM-8800 figure); Ampere Altra DDR4-3200. max_mts is None
where the SKU's speed could not be confirmed (it then falls back to the memory type's default) and
for soldered LPDDR (Grace, Apple, Strix Halo).

Names are matched after lower-casing and dropping the (R)/(TM) marks that lscpu and dmidecode print
("Intel(R) Xeon(R) 6980P" -> "intel xeon 6980p"); keys are substrings, the first match wins, so a
key that another SKU's name contains (e.g. "platinum 8470" in "platinum 8470q") comes after the
longer key.

Measured here: numpy sgemm on this machine's 2 AMD EPYC cores ran at 253 GFLOP/s against a
nominal 2 × 3.7 GHz × 32 = 237 GFLOP/s, so a probed GEMM rate stands in for the peak directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


# Quantised weights are multiplied in int8 on CPUs (llama.cpp/ik_llama.cpp quantise the activations
# to 8 bits and use integer dot products), so their decode compute runs at the int8 dot rate, not the
# FP32 FMA rate. Per 32-bit lane an FMA is 2 FLOP; VNNI's VPDPBUSD (AVX-512 VNNI, AVX-VNNI) and Arm's
# SDOT do 4 int8 multiply-adds = 8 ops at the same issue rate: 4x. Without them (AVX2, AVX-512F on
# Skylake) VPMADDUBSW + VPMADDWD do those 4 multiply-adds in two instructions: 2x. Intel and AMD
# instruction references, Arm A64 SDOT. VNNI: Cascade Lake and later Xeon SP, Zen 4 and later; SDOT:
# Neoverse N1/V1/V2. AMX (Sapphire Rapids on) adds nothing here: llama.cpp's decode kernels use VNNI.


@dataclass(frozen=True)
class CpuRating:
    cores: int  # per socket
    base_ghz: float
    flops_per_cycle: float  # FP32, per core
    max_mts: int | None = None  # fastest DIMM speed the platform supports at one DIMM per channel
    int8_dot: float = 4.0  # int8 dot-product ops per FP32 FLOP the core issues (see the note above)


# Matched as lower-case substrings of the CPU model name, most specific first.
CPU_RATINGS: tuple[tuple[str, CpuRating], ...] = (
    # AMD EPYC 9005 (Turin, Zen 5 / Zen 5c): AMD launch table; DDR5-6400 12 channels
    ("epyc 9355", CpuRating(32, 3.55, 64, 6400)),  # Zen 5, full-width AVX-512
    ("epyc 9375f", CpuRating(32, 3.8, 64, 6400)),
    ("epyc 9135", CpuRating(16, 3.65, 64, 6400)),
    ("epyc 9965", CpuRating(192, 2.25, 64, 6400)),  # Zen 5c, same AVX-512 datapath as Zen 5
    ("epyc 9575f", CpuRating(64, 3.3, 64, 6400)),
    ("epyc 9555", CpuRating(64, 3.2, 64, 6400)),
    ("epyc 9655", CpuRating(96, 2.6, 64, 6400)),
    ("epyc 9755", CpuRating(128, 2.7, 64, 6400)),
    ("epyc 9015", CpuRating(8, 3.6, 64, 6400)),
    ("epyc 9115", CpuRating(16, 2.6, 64, 6400)),
    ("epyc 9175f", CpuRating(16, 4.2, 64, 6400)),
    ("epyc 9255", CpuRating(24, 3.25, 64, 6400)),
    ("epyc 9275f", CpuRating(24, 4.1, 64, 6400)),
    ("epyc 9335", CpuRating(32, 3.0, 64, 6400)),
    ("epyc 9455", CpuRating(48, 3.15, 64, 6400)),
    ("epyc 9475f", CpuRating(48, 3.65, 64, 6400)),
    ("epyc 9565", CpuRating(72, 3.15, 64, 6400)),
    ("epyc 9645", CpuRating(96, 2.3, 64, 6400)),  # Zen 5c
    ("epyc 9745", CpuRating(128, 2.4, 64, 6400)),  # Zen 5c
    ("epyc 9825", CpuRating(144, 2.2, 64, 6400)),  # Zen 5c
    ("epyc 9845", CpuRating(160, 2.1, 64, 6400)),  # Zen 5c
    # AMD EPYC 9004 (Genoa, Zen 4; Bergamo Zen 4c): amd.com; DDR5-4800 12 channels
    ("epyc 9174f", CpuRating(16, 4.1, 32, 4800)),  # Zen 4 F-parts
    ("epyc 9274f", CpuRating(24, 4.05, 32, 4800)),
    ("epyc 9374f", CpuRating(32, 3.85, 32, 4800)),
    ("epyc 9474f", CpuRating(48, 3.6, 32, 4800)),
    ("epyc 9654", CpuRating(96, 2.4, 32, 4800)),  # Zen 4
    ("epyc 9554", CpuRating(64, 3.1, 32, 4800)),
    ("epyc 9754", CpuRating(128, 2.25, 32, 4800)),  # Zen 4c
    ("epyc 9124", CpuRating(16, 3.0, 32, 4800)),
    ("epyc 9224", CpuRating(24, 2.5, 32, 4800)),
    ("epyc 9254", CpuRating(24, 2.9, 32, 4800)),
    ("epyc 9334", CpuRating(32, 2.7, 32, 4800)),
    ("epyc 9354", CpuRating(32, 3.25, 32, 4800)),
    ("epyc 9454", CpuRating(48, 2.75, 32, 4800)),
    ("epyc 9534", CpuRating(64, 2.45, 32, 4800)),
    ("epyc 9634", CpuRating(84, 2.25, 32, 4800)),
    # AMD EPYC 7003 (Milan, Zen 3, AVX2, no VNNI): amd.com; DDR4-3200 8 channels
    ("epyc 7773x", CpuRating(64, 2.2, 32, 3200, int8_dot=2.0)),  # Zen 3, AVX2
    ("epyc 7763", CpuRating(64, 2.45, 32, 3200, int8_dot=2.0)),
    ("epyc 7713", CpuRating(64, 2.0, 32, 3200, int8_dot=2.0)),
    ("epyc 7663", CpuRating(56, 2.0, 32, 3200, int8_dot=2.0)),
    ("epyc 7643", CpuRating(48, 2.3, 32, 3200, int8_dot=2.0)),
    ("epyc 7573x", CpuRating(32, 2.8, 32, 3200, int8_dot=2.0)),
    ("epyc 75f3", CpuRating(32, 2.95, 32, 3200, int8_dot=2.0)),
    ("epyc 7543", CpuRating(32, 2.8, 32, 3200, int8_dot=2.0)),
    ("epyc 7513", CpuRating(32, 2.6, 32, 3200, int8_dot=2.0)),
    ("epyc 7473x", CpuRating(24, 2.8, 32, 3200, int8_dot=2.0)),
    ("epyc 7453", CpuRating(28, 2.75, 32, 3200, int8_dot=2.0)),
    ("epyc 74f3", CpuRating(24, 3.2, 32, 3200, int8_dot=2.0)),
    ("epyc 7443", CpuRating(24, 2.85, 32, 3200, int8_dot=2.0)),
    ("epyc 7413", CpuRating(24, 2.65, 32, 3200, int8_dot=2.0)),
    ("epyc 73f3", CpuRating(16, 3.5, 32, 3200, int8_dot=2.0)),
    ("epyc 7373x", CpuRating(16, 3.05, 32, 3200, int8_dot=2.0)),
    ("epyc 7343", CpuRating(16, 3.2, 32, 3200, int8_dot=2.0)),
    ("epyc 7313", CpuRating(16, 3.0, 32, 3200, int8_dot=2.0)),
    # AMD EPYC 7002 (Rome, Zen 2, AVX2, no VNNI): amd.com; DDR4-3200 8 channels
    ("epyc 7742", CpuRating(64, 2.25, 32, 3200, int8_dot=2.0)),
    ("epyc 7h12", CpuRating(64, 2.6, 32, 3200, int8_dot=2.0)),
    ("epyc 7702", CpuRating(64, 2.0, 32, 3200, int8_dot=2.0)),
    ("epyc 7642", CpuRating(48, 2.3, 32, 3200, int8_dot=2.0)),
    ("epyc 7552", CpuRating(48, 2.2, 32, 3200, int8_dot=2.0)),
    ("epyc 7542", CpuRating(32, 2.9, 32, 3200, int8_dot=2.0)),
    ("epyc 7532", CpuRating(32, 2.4, 32, 3200, int8_dot=2.0)),
    ("epyc 7502", CpuRating(32, 2.5, 32, 3200, int8_dot=2.0)),
    ("epyc 7452", CpuRating(32, 2.35, 32, 3200, int8_dot=2.0)),
    ("epyc 7f72", CpuRating(24, 3.2, 32, 3200, int8_dot=2.0)),
    ("epyc 7402", CpuRating(24, 2.8, 32, 3200, int8_dot=2.0)),
    ("epyc 7f52", CpuRating(16, 3.5, 32, 3200, int8_dot=2.0)),
    ("epyc 7302", CpuRating(16, 3.0, 32, 3200, int8_dot=2.0)),
    # AMD Threadripper PRO: amd.com (5000WX Zen 3 DDR4-3200; 7000WX Zen 4 DDR5-5200, 8 channels)
    ("5995wx", CpuRating(64, 2.7, 32, 3200, int8_dot=2.0)),  # Zen 3, AVX2
    ("5975wx", CpuRating(32, 3.6, 32, 3200, int8_dot=2.0)),
    ("5965wx", CpuRating(24, 3.8, 32, 3200, int8_dot=2.0)),
    ("7995wx", CpuRating(96, 2.5, 32, 5200)),  # Zen 4
    ("7985wx", CpuRating(64, 3.2, 32, 5200)),
    ("7975wx", CpuRating(32, 4.0, 32, 5200)),
    ("7965wx", CpuRating(24, 4.2, 32, 5200)),
    ("7955wx", CpuRating(16, 4.5, 32, 5200)),
    ("7945wx", CpuRating(12, 4.7, 32, 5200)),
    ("9995wx", CpuRating(96, 2.5, 64, 6400)),  # Zen 5 (Shimada Peak), WRX90 DDR5-6400
    # Intel Xeon 6 (Granite Rapids, two 512-bit FMA pipes, VNNI + AMX)
    ("xeon 6980p", CpuRating(128, 2.0, 64, 6400)),  # Granite Rapids
    ("xeon 6979p", CpuRating(120, 2.1, 64, 6400)),
    ("xeon 6972p", CpuRating(96, 2.4, 64, 6400)),
    ("xeon 6952p", CpuRating(96, 2.1, 64, 5600)),  # RDIMM DDR5-5600 on this SKU
    ("xeon 6960p", CpuRating(72, 2.7, 64, 8800)),  # Granite Rapids, MRDIMM-8800
    ("xeon 6787p", CpuRating(86, 2.0, 64, 6400)),  # 6700P: 8 channels DDR5-6400 (MRDIMM-8000)
    ("xeon 6767p", CpuRating(64, 2.4, 64, 6400)),
    ("xeon 6760p", CpuRating(64, 2.2, 64, 6400)),
    ("xeon 6747p", CpuRating(48, 2.7, 64, 6400)),
    ("xeon 6740p", CpuRating(48, 2.1, 64, 6400)),
    ("xeon 6737p", CpuRating(32, 2.9, 64, 6400)),
    ("xeon 6730p", CpuRating(32, 2.5, 64, 6400)),
    # Intel Xeon SP 5th gen (Emerald Rapids): Platinum DDR5-5600 8 channels
    ("platinum 8592+", CpuRating(64, 1.9, 64, 5600)),
    ("platinum 8580", CpuRating(60, 2.0, 64, 5600)),
    ("platinum 8562y+", CpuRating(32, 2.8, 64, 5600)),
    ("platinum 8558q", CpuRating(48, 2.7, 64)),  # DIMM speed of this SKU not confirmed
    ("platinum 8558u", CpuRating(48, 2.0, 64)),  # DIMM speed of this SKU not confirmed
    ("platinum 8558", CpuRating(48, 2.1, 64)),  # DIMM speed of this SKU not confirmed
    ("gold 6548y+", CpuRating(32, 2.5, 64)),  # DIMM speed of this SKU not confirmed
    ("gold 6530", CpuRating(32, 2.1, 64, 4800)),  # ARK: DDR5-4800 (1DPC)
    # Intel Xeon SP 4th gen (Sapphire Rapids) and Xeon W-3400: ARK; DDR5-4800 8 channels
    ("platinum 8480", CpuRating(56, 2.0, 64, 4800)),  # Sapphire Rapids (8480+, 8480C, 8480CL)
    ("platinum 8490h", CpuRating(60, 1.9, 64, 4800)),
    ("platinum 8470q", CpuRating(52, 2.1, 64, 4800)),
    ("platinum 8470n", CpuRating(52, 1.7, 64)),  # DIMM speed of this SKU not confirmed
    ("platinum 8470", CpuRating(52, 2.0, 64, 4800)),
    ("platinum 8468v", CpuRating(48, 2.4, 64)),  # DIMM speed of this SKU not confirmed
    ("platinum 8468", CpuRating(48, 2.1, 64, 4800)),  # also 8468H
    ("platinum 8462y+", CpuRating(32, 2.8, 64, 4800)),
    ("gold 6454s", CpuRating(32, 2.2, 64, 4800)),
    ("gold 6448y", CpuRating(32, 2.1, 64, 4800)),
    ("gold 6442y", CpuRating(24, 2.6, 64, 4800)),
    ("gold 6438y+", CpuRating(32, 2.0, 64, 4800)),
    ("gold 6438m", CpuRating(32, 2.2, 64, 4800)),
    ("gold 6430", CpuRating(32, 2.1, 64)),  # DIMM speed of this SKU not confirmed
    ("gold 5420+", CpuRating(28, 2.0, 64)),  # Gold 5400: FLOP/cycle at the documented SPR value;
    ("gold 5418y", CpuRating(24, 2.0, 64)),  # DIMM speed (below 4800 on Gold 5400) not confirmed
    ("w9-3495x", CpuRating(56, 1.9, 64, 4800)),  # Xeon W-3400 (Sapphire Rapids)
    ("w9-3475x", CpuRating(36, 2.2, 64, 4800)),
    ("w7-3465x", CpuRating(28, 2.5, 64, 4800)),
    ("w5-3435x", CpuRating(16, 3.1, 64, 4800)),
    # Intel Xeon SP 3rd gen (Ice Lake, two FMA units, VNNI): ARK; Platinum 83xx/Gold 63xx DDR4-3200
    ("platinum 8380h", CpuRating(28, 2.9, 64)),  # Cooper Lake, not Ice Lake; DIMM speed not confirmed
    ("platinum 8380", CpuRating(40, 2.3, 64, 3200)),
    ("platinum 8368q", CpuRating(38, 2.6, 64, 3200)),
    ("platinum 8368", CpuRating(38, 2.4, 64, 3200)),
    ("platinum 8360y", CpuRating(36, 2.4, 64, 3200)),
    ("platinum 8358", CpuRating(32, 2.6, 64, 3200)),  # also 8358P
    ("platinum 8352y", CpuRating(32, 2.2, 64, 3200)),
    ("gold 6348h", CpuRating(24, 2.3, 64)),  # Cooper Lake; DIMM speed not confirmed
    ("gold 6348", CpuRating(28, 2.6, 64, 3200)),
    ("gold 6342", CpuRating(24, 2.8, 64, 3200)),
    ("gold 6338n", CpuRating(32, 2.2, 64)),  # DIMM speed of this SKU not confirmed
    ("gold 6338t", CpuRating(24, 2.1, 64)),  # DIMM speed of this SKU not confirmed
    ("gold 6338", CpuRating(32, 2.0, 64, 3200)),
    ("gold 6330h", CpuRating(24, 2.0, 64)),  # Cooper Lake; DIMM speed not confirmed
    ("gold 6330n", CpuRating(28, 2.2, 64)),  # DIMM speed of this SKU not confirmed
    ("gold 6330", CpuRating(28, 2.0, 64)),  # DIMM speed of this SKU not confirmed
    # Intel Xeon SP 2nd gen (Cascade Lake, two FMA units on Gold 62xx/Platinum, VNNI): DDR4-2933
    ("platinum 8280", CpuRating(28, 2.7, 64, 2933)),
    ("platinum 8276", CpuRating(28, 2.2, 64, 2933)),
    ("gold 6248r", CpuRating(24, 3.0, 64, 2933)),
    ("gold 6248", CpuRating(20, 2.5, 64, 2933)),
    # Intel Xeon SP 1st gen (Skylake-SP, no VNNI): ARK; Gold 61xx/Platinum DDR4-2666
    ("platinum 8180", CpuRating(28, 2.5, 64, 2666, int8_dot=2.0)),
    ("platinum 8160", CpuRating(24, 2.1, 64, 2666, int8_dot=2.0)),
    ("gold 6148", CpuRating(20, 2.4, 64, 2666, int8_dot=2.0)),
    ("gold 6138", CpuRating(20, 2.0, 64, 2666, int8_dot=2.0)),  # Skylake-SP, two FMA units
    ("gold 6130", CpuRating(16, 2.1, 64, 2666, int8_dot=2.0)),
    ("gold 5118", CpuRating(12, 2.3, 32, 2400, int8_dot=2.0)),  # one AVX-512 FMA unit
    ("silver 4116", CpuRating(12, 2.1, 32, 2400, int8_dot=2.0)),  # one AVX-512 FMA unit
    # AMD Ryzen desktop: amd.com (7000) and launch specs (9000); dual-channel
    ("ryzen 9 7950x3d", CpuRating(16, 4.2, 32, 5200)),  # Zen 4
    ("ryzen 9 7950x", CpuRating(16, 4.5, 32, 5200)),  # Zen 4
    ("ryzen 9 7900x3d", CpuRating(12, 4.4, 32, 5200)),
    ("ryzen 9 7900x", CpuRating(12, 4.7, 32, 5200)),
    ("ryzen 7 7800x3d", CpuRating(8, 4.2, 32, 5200)),
    ("ryzen 7 7700x", CpuRating(8, 4.5, 32, 5200)),
    ("ryzen 9 9950x3d", CpuRating(16, 4.3, 64, 5600)),  # Zen 5
    ("ryzen 9 9950x", CpuRating(16, 4.3, 64, 5600)),  # Zen 5 desktop, full-width AVX-512
    ("ryzen 9 9900x", CpuRating(12, 4.4, 64, 5600)),  # a 9900X3D (not confirmed here) also matches
    ("ryzen 7 9700x", CpuRating(8, 3.8, 64, 5600)),
    ("ryzen 5 9600x", CpuRating(6, 3.9, 64, 5600)),
    ("ryzen 9 5950x", CpuRating(16, 3.4, 32, 3200, int8_dot=2.0)),  # Zen 3, AVX2, DDR4-3200
    ("ryzen ai max+ 395", CpuRating(16, 3.0, 64)),  # Zen 5 (Strix Halo)
    # Arm servers
    ("q80-30", CpuRating(80, 3.0, 16, 3200)),  # Ampere Altra (Neoverse N1, SDOT), 8 ch DDR4-3200
    ("m128-30", CpuRating(128, 3.0, 16, 3200)),  # Ampere Altra Max (Neoverse N1)
    ("grace cpu", CpuRating(72, 3.1, 32)),  # NVIDIA Grace, Neoverse V2 (4x128-bit SVE2), LPDDR5X
    ("grace hopper", CpuRating(72, 3.1, 32)),
    ("gh200", CpuRating(72, 3.1, 32)),
    # Apple
    ("m3 ultra", CpuRating(32, 4.05, 32)),
    ("m2 ultra", CpuRating(24, 3.5, 32)),
)

_MARKS = re.compile(r"\((?:r|tm)\)|[®™]")


def _normalise(name: str) -> str:
    """Lower-case, without the (R)/(TM) marks lscpu and dmidecode print, single-spaced."""
    return " ".join(_MARKS.sub(" ", name.lower()).split())


def rating_for(name: str | None) -> CpuRating | None:
    if not name:
        return None
    low = _normalise(name)
    return next((r for key, r in CPU_RATINGS if key in low), None)
