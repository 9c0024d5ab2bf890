"""Rated figures of GPUs from their vendors' sheets: one table for every reader.

The GPU probe reads it for what NVML does not report (memory type, dense BF16 TFLOPS); the
calibration set reads it for the rows that name a GPU without its numbers (the AMD, Apple, Intel
and Jetson entries serve only that reader: NVML does not see those GPUs). Each
entry says where its figures come from. A name is matched by the first pattern (case-insensitive
regular expression, searched in the name) that fits, so more specific patterns come first.

BF16 figures are dense tensor throughput without sparsity: NVIDIA H100 datasheet (SXM 989.4, PCIe
756.5, NVL 835.5: half the "with sparsity" 1979/1513/1671); Ada GPU architecture whitepaper v2.1
Table 2 (RTX 4090: 165.2 with FP32 accumulate); Ampere GA102 whitepaper Table 9 (RTX 3090: 71);
RTX Blackwell whitepaper (RTX 5090: 209.5); each other entry names its sheet beside it. GeForce
cards (and the A10G and L20) run BF16, which accumulates in FP32, at half their FP16-accumulate
tensor rate, so their entries carry the FP32-accumulate figure; workstation and datacenter parts
run both at one rate. Where a GPU has no BF16 the entry says what it carries instead: the FP16
tensor rate (V100, T4), the FP16 rate of the shader cores (P100), FP32 (P40, whose FP16 runs at
1/64), or the FP32 = FP16 shader rate of Apple's GPUs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

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
    # --- NVIDIA datacenter -------------------------------------------------------------------------
    # GB300 NVL72 page: FP16/BF16 360 PFLOPS with sparsity for 72 GPUs -> 360/72/2 = 2500 dense; HBM3e
    # at 576 TB/s for 72 -> 8000 GB/s per GPU; 288 GB HBM3e per GPU (NVIDIA's Blackwell Ultra blog).
    GpuSheet(r"GB300", "HBM3e", 288, 8000, 2500.0),
    # HGX B300 page: FP16/BF16 36 PFLOPS with sparsity for 8 GPUs -> 36000/8/2 = 2250 dense (the HGX
    # bin clocks lower than the GB300 NVL72 one); up to 2.3 TB HBM3e per 8 -> 288 GB; 8 TB/s per GPU.
    GpuSheet(r"B300", "HBM3e", 288, 8000, 2250.0),
    GpuSheet(r"GH200.*(144|HBM3e)", "HBM3e", 144, 4900, 989.4),  # NVIDIA GH200 datasheet (144 GB HBM3e)
    GpuSheet(r"GH200", "HBM3", 96, 4000, 989.4),  # NVIDIA GH200 Grace Hopper datasheet (96 GB HBM3)
    GpuSheet(r"H200", "HBM3e", 141, 4800, 989.0),  # NVIDIA H200 datasheet
    GpuSheet(r"H800.*PCIe", "HBM2e", 80, 2000, 756.5),  # NVIDIA H800 PCIe brief (H100 PCIe silicon)
    GpuSheet(r"H800", "HBM3", 80, 3350, 989.0),  # NVIDIA H800 SXM brief (H100 SXM silicon, reduced NVLink)
    GpuSheet(r"H100.*NVL", "HBM3", 94, 3900, 835.5),  # NVIDIA H100 NVL datasheet
    GpuSheet(r"H100.*PCIe", "HBM2e", 80, 2000, 756.5),  # NVIDIA H100 PCIe datasheet
    GpuSheet(r"H100", "HBM3", 80, 3350, 989.4),  # NVIDIA H100 SXM datasheet
    GpuSheet(r"H20\b", "HBM3", 96, 4000, 148.0),  # NVIDIA H20 product brief
    # GB200 NVL72 page: FP16/BF16 360 PFLOPS with sparsity for 72 GPUs -> 360/72/2 = 2500 dense (the
    # GB200 bin clocks above the HGX B200 one); 13.4 TB HBM3e at 576 TB/s -> 186 GB, 8000 GB/s per GPU.
    # Before r"B200", which "GB200" would otherwise reach.
    GpuSheet(r"GB200", "HBM3e", 186, 8000, 2500.0),
    GpuSheet(r"B200", "HBM3e", 180, 8000, 2250.0),  # NVIDIA DGX B200 datasheet: 1440 GB, 64 TB/s for 8 GPUs
    GpuSheet(r"A100.*40GB", "HBM2", 40, 1555, 312.0),  # NVIDIA A100 datasheet (40 GB SXM and PCIe)
    GpuSheet(r"A100.*PCIe", "HBM2e", 80, 1935, 312.0),  # NVIDIA A100 datasheet (80 GB PCIe)
    GpuSheet(r"A100", "HBM2e", 80, 2039, 312.0),  # NVIDIA A100 80GB SXM datasheet
    # A800 (NVIDIA A800 40GB/80GB PCIe and 80GB SXM product briefs): A100 silicon with NVLink cut to
    # 400 GB/s, the same memory and 312 TFLOPS BF16 dense (624 with sparsity)
    GpuSheet(r"A800.*40GB", "HBM2", 40, 1555, 312.0),
    GpuSheet(r"A800.*PCIe", "HBM2e", 80, 1935, 312.0),
    GpuSheet(r"A800", "HBM2e", 80, 2039, 312.0),
    GpuSheet(r"\bA30\b", "HBM2", 24, 933, 165.0),  # NVIDIA A30 datasheet: BF16 165 dense (330 sparse)
    GpuSheet(r"\bA40\b", "GDDR6", 48, 696, 149.7),  # NVIDIA A40 datasheet: BF16 149.7 dense (299.4 sparse)
    # A10G (AWS G5; NVIDIA A10G datasheet for AWS, 2022): 24 GB at 600 GB/s like the A10, but BF16 70
    # dense (140 with sparsity) against the A10's 125: a GA102 with 80 SMs at the GeForce tensor rate.
    # Before r"A10\b" (which does not match "A10G" anyway: no word boundary between 0 and G).
    GpuSheet(r"A10G", "GDDR6", 24, 600, 70.0),
    GpuSheet(r"A10\b", "GDDR6", 24, 600, 125.0),  # NVIDIA A10 datasheet
    GpuSheet(r"L40S", "GDDR6", 48, 864, 362.05),  # NVIDIA L40S datasheet
    # NVIDIA L20 datasheet: 48 GB GDDR6 at 864 GB/s, BF16 119.5 dense (239 sparse). r"\bL20\b" leaves
    # the L20X, a different part, unknown.
    GpuSheet(r"\bL20\b", "GDDR6", 48, 864, 119.5),
    GpuSheet(r"L4\b", "GDDR6", 24, 300, 121.0),  # NVIDIA L4 datasheet
    # Volta has no BF16: these carry the FP16 tensor rate. NVIDIA V100 datasheet: SXM2 125 TFLOPS
    # tensor, PCIe 112, both 900 GB/s, 16 or 32 GB HBM2; V100S PCIe 32 GB: 130 TFLOPS, 1134 GB/s.
    GpuSheet(r"V100S", "HBM2", 32, 1134, 130.0),
    GpuSheet(r"V100.*PCIe.*16", "HBM2", 16, 900, 112.0),
    GpuSheet(r"V100.*PCIe", "HBM2", 32, 900, 112.0),
    GpuSheet(r"V100.*16\s*GB", "HBM2", 16, 900, 125.0),
    GpuSheet(r"V100", "HBM2", 32, 900, 125.0),
    # NVIDIA T4 datasheet: 16 GB GDDR6 at 320 GB/s, 65 TFLOPS FP16 tensor (Turing has no BF16, no sparsity)
    GpuSheet(r"\bT4\b", "GDDR6", 16, 320, 65.0),
    # Pascal has no tensor cores. NVIDIA P100 datasheet: FP16 on the shader cores at twice FP32,
    # SXM2 21.2 TFLOPS, PCIe 18.7; 16 GB HBM2 at 732 GB/s, the 12 GB PCIe card 549 GB/s.
    GpuSheet(r"P100.*SXM2", "HBM2", 16, 732, 21.2),
    GpuSheet(r"P100.*12\s*GB", "HBM2", 12, 549, 18.7),
    GpuSheet(r"P100", "HBM2", 16, 732, 18.7),
    # NVIDIA P40 datasheet: 24 GB GDDR5 at 346 GB/s, 12 TFLOPS FP32 (11.76: 3840 cores x 2 x 1.531 GHz).
    # FP16 runs at 1/64 of that, so runtimes compute in FP32: the FP32 rate is the one carried here.
    GpuSheet(r"\bP40\b", "GDDR5", 24, 346, 11.76),
    # NVIDIA Jetson AGX Orin 64GB datasheet: 64 GB LPDDR5 at 204.8 GB/s shared with the CPU; the GPU
    # (2048 cores, 64 tensor cores, 1.3 GHz) gives 170 INT8 TOPS with sparsity -> 170/2/2 = 42.5 FP16
    # dense. Not the AGX Orin 32GB (fewer SMs, lower clock), which the lookahead leaves unknown.
    GpuSheet(r"AGX\s*Orin(?!\s*32)", "LPDDR5", 0, 204.8, 42.5, unified=True),
    # --- NVIDIA workstation -------------------------------------------------------------------------
    # RTX PRO 6000 Blackwell (Workstation, Max-Q Workstation and Server editions): the same GB202 with
    # 188 SMs and 96 GB of 512-bit GDDR7 at 28 Gbps (1792 GB/s); 4000 AI TOPS (FP4, sparse; NVIDIA
    # product page). A workstation part accumulates BF16 in FP32 at the full tensor rate, as the RTX 6000
    # Ada does (below), where GeForce runs it at half: 4000 / 2 (sparsity) / 4 (FP4 -> BF16) = 500 dense.
    # The Max-Q edition (300 W against 600 W) is rated 3511 AI TOPS: 439.
    GpuSheet(r"RTX\s*PRO\s*6000.*Max.Q", "GDDR7", 96, 1792, 439.0),
    GpuSheet(r"RTX\s*PRO\s*6000", "GDDR7", 96, 1792, 500.0),
    # Ada workstation cards run BF16 at the full tensor rate, 1024 FLOP per SM per clock dense (NVIDIA
    # RTX 6000 Ada datasheet: 1457 TFLOPS FP8 with sparsity = 142 SMs x 2.505 GHz x 4096 -> 364.2 BF16).
    # RTX 5000 Ada datasheet: 1044.4 FP8 sparse -> 261.1 (100 SMs at 2.55 GHz); 32 GB, 256-bit 18 Gbps.
    # RTX 4000 Ada (NVIDIA product page: 48 SMs, 2.175 GHz boost, 20 GB 160-bit 18 Gbps = 360 GB/s):
    # 48 x 2.175 x 1.024 = 106.9. "RTX 4000 SFF Ada" (70 W, lower clocks) does not match and stays unknown.
    # These must not be reached by r"\bA6000\b" (the Ampere RTX A6000) nor by r"RTX\s*PRO\s*6000".
    GpuSheet(r"RTX\s*6000\s*Ada", "GDDR6", 48, 960, 364.2),
    GpuSheet(r"RTX\s*5000\s*Ada", "GDDR6", 32, 576, 261.1),
    GpuSheet(r"RTX\s*4000\s*Ada", "GDDR6", 20, 360, 106.9),
    # Ampere workstation (NVIDIA RTX A6000 / A5000 datasheets, tensor figures with sparsity halved):
    # A6000 48 GB, 384-bit 16 Gbps = 768 GB/s, 309.7 -> 154.8; A5000 24 GB, 768 GB/s, 222.2 -> 111.1
    GpuSheet(r"\bA6000\b", "GDDR6", 48, 768, 154.8),
    GpuSheet(r"\bA5000\b", "GDDR6", 24, 768, 111.1),
    # --- NVIDIA GeForce: BF16 (FP32-accumulate) dense, half the FP16-accumulate figure ----------------
    # NVIDIA RTX Blackwell whitepaper: 5090 class, 512-bit GDDR7 at 28 Gbps. The 5090 D's tensor rate
    # is capped: 2375 AI TOPS against the 5090's 3352 (NVIDIA product pages), so 209.5 x 2375/3352.
    GpuSheet(r"5090\s*D\b", "GDDR7", 32, 1792, 148.4),
    GpuSheet(r"5090", "GDDR7", 32, 1792, 209.5),
    # RTX Blackwell: 512 FLOP per SM per clock (5090: 170 SMs x 2.407 GHz -> 209.5; whitepaper Table 6,
    # RTX 5070: 61.7), which is the product pages' "AI TOPS" (FP4, sparse) / 16: 5080 1801 -> 112.6
    # (84 SMs at 2.617 GHz), 5070 Ti 1406 -> 87.9, 5060 Ti 759 -> 47.4. GDDR7 (NVIDIA spec pages):
    # 5080 256-bit 30 Gbps = 960 GB/s; 5070 Ti 256-bit 28 = 896; 5070 192-bit 28 = 672; 5060 Ti
    # 128-bit 28 = 448 (its 8 GB version has the same bus; the table carries the 16 GB one).
    GpuSheet(r"5080", "GDDR7", 16, 960, 112.6),
    GpuSheet(r"5070\s*Ti", "GDDR7", 16, 896, 87.9),
    GpuSheet(r"5070", "GDDR7", 12, 672, 61.7),
    GpuSheet(r"5060\s*Ti", "GDDR7", 16, 448, 47.4),
    # 4090 D: 114 SMs against the 4090's 128, the same 384-bit GDDR6X at 21 Gbps
    GpuSheet(r"4090\s*D\b", "GDDR6X", 24, 1008, 147.0),
    GpuSheet(r"4090", "GDDR6X", 24, 1008, 165.2),  # NVIDIA Ada Lovelace whitepaper, FP16 tensor dense (FP32 acc)
    # Ada GeForce: the 4090's 512 FLOP per SM per clock (165.2 = 128 SMs x 2.52 GHz x 512). 4080: Ada
    # whitepaper 97.5 (76 SMs at 2.505 GHz), 256-bit GDDR6X at 22.4 Gbps = 716.8 GB/s. NVIDIA spec
    # pages: 4080 SUPER 80 SMs at 2.55 GHz -> 104.4, 23 Gbps = 736 GB/s; 4070 Ti SUPER 66 SMs at
    # 2.61 GHz -> 88.2, 256-bit 21 Gbps = 672 GB/s; 4060 Ti 34 SMs at 2.535 GHz -> 44.1, 128-bit GDDR6
    # at 18 Gbps = 288 GB/s (16 GB; the 8 GB card has the same bus).
    GpuSheet(r"4080\s*SUPER", "GDDR6X", 16, 736, 104.4),
    GpuSheet(r"4080", "GDDR6X", 16, 716.8, 97.5),
    GpuSheet(r"4070\s*Ti\s*S", "GDDR6X", 16, 672, 88.2),
    # Ada AD104: 60 SMs at 2.61 GHz, the 4090's FP32-accumulate tensor rate per SM-GHz; 192-bit 21 Gbps
    GpuSheet(r"4070\s*Ti(?!\s*S)", "GDDR6X", 12, 504, 80.2),
    GpuSheet(r"4060\s*Ti", "GDDR6", 16, 288, 44.1),
    GpuSheet(r"3090\s*Ti", "GDDR6X", 24, 1008, 80.0),  # NVIDIA RTX 3090 Ti spec: 21 Gbps, 84 SMs
    GpuSheet(r"3090", "GDDR6X", 24, 936, 71.0),  # NVIDIA Ampere GA102 whitepaper, FP16 tensor dense (FP32 acc)
    # Ampere GA102 GeForce, 512 FLOP per SM per clock as the 3090's 71 (82 SMs at 1.695 GHz): 3080 Ti
    # 80 SMs at 1.665 GHz -> 68.2; 3080 12 GB 70 SMs at 1.71 -> 61.3; 3080 (10 GB) GA102 whitepaper
    # 59.5 (68 SMs at 1.71). GDDR6X at 19 Gbps: 384-bit = 912 GB/s, the 10 GB card's 320-bit = 760.
    # NVML names the 10 and 12 GB cards alike, so only a name that says "12 GB" reaches the latter.
    GpuSheet(r"3080\s*Ti", "GDDR6X", 12, 912, 68.2),
    GpuSheet(r"3080.*12\s*GB", "GDDR6X", 12, 912, 61.3),
    GpuSheet(r"3080", "GDDR6X", 10, 760, 59.5),
    # Ampere GA106/GA104 (NVIDIA spec pages; dense = half the "sparse" tensor figure): RTX 3060 12 GB,
    # 192-bit 15 Gbps; RTX A4000 16 GB, 256-bit 14 Gbps, 153.4 sparse
    GpuSheet(r"3060(?!\s*Ti)", "GDDR6", 12, 360, 51.0),
    GpuSheet(r"\bA4000\b", "GDDR6", 16, 448, 76.7),
    # NVIDIA Turing whitepaper: RTX 2080 Ti FP16 tensor with FP32 accumulate (Turing has no BF16) at the
    # reference 1545 MHz boost: 68 SMs x 1.545 GHz x 512 = 53.8 (56.9 for the 1635 MHz Founders Edition);
    # 11 GB GDDR6, 352-bit at 14 Gbps = 616 GB/s
    GpuSheet(r"2080\s*Ti", "GDDR6", 11, 616, 53.8),
    # --- AMD ----------------------------------------------------------------------------------------
    # AMD Instinct datasheets, FP16/BF16 matrix dense: MI355X 288 GB HBM3E at 8 TB/s, 2516.6 (5033.2
    # with sparsity); MI325X 256 GB HBM3E at 6 TB/s and MI300X 192 GB HBM3 at 5.3 TB/s, both 1307.4
    # (2614.9 sparse); MI250X 128 GB HBM2e at 3.2768 TB/s, 383 (the OAM package: ROCm shows its two
    # GCDs as two devices of 64 GB, 1638.4 GB/s and 191.5 each); MI210 64 GB HBM2e at 1.6384 TB/s, 181;
    # MI100 32 GB HBM2 at 1.2288 TB/s, BF16 92.3 (its FP16 is 184.6).
    GpuSheet(r"MI355X", "HBM3e", 288, 8000, 2516.6),
    GpuSheet(r"MI325X", "HBM3e", 256, 6000, 1307.4),
    GpuSheet(r"MI300X", "HBM3", 192, 5300, 1307.4),
    GpuSheet(r"MI250X", "HBM2e", 128, 3276.8, 383.0),
    GpuSheet(r"MI210", "HBM2e", 64, 1638.4, 181.0),
    GpuSheet(r"MI100", "HBM2", 32, 1228.8, 92.3),
    # AMD Radeon spec pages, RDNA 3 (WMMA FP16/BF16 at the dual-issue shader rate, 512 FLOP per CU per
    # clock): RX 7900 XTX 24 GB, 384-bit 20 Gbps = 960 GB/s, 122.8 TFLOPS FP16 (96 CUs at 2.5 GHz);
    # RX 7900 XT 20 GB, 320-bit 20 Gbps = 800 GB/s, 103 (84 CUs at 2.4 GHz); Radeon PRO W7900 48 GB,
    # 384-bit 18 Gbps = 864 GB/s, 122.6 (96 CUs at 2.495 GHz)
    GpuSheet(r"7900\s*XTX", "GDDR6", 24, 960, 122.8),
    GpuSheet(r"7900\s*XT\b", "GDDR6", 20, 800, 103.0),
    GpuSheet(r"W7900\b", "GDDR6", 48, 864, 122.6),
    # AMD Radeon RX 9070 XT spec page: 16 GB, 256-bit 20 Gbps = 640 GB/s; 779 INT8 TOPS with sparsity.
    # RDNA 4 matrix FP16 runs at half the INT8 rate: 779/2/2 = 194.7, i.e. 64 CUs x 2.97 GHz x 1024.
    GpuSheet(r"9070\s*XT", "GDDR6", 16, 640, 194.7),
    # AMD Radeon AI PRO R9700: 32 GB, 256-bit 20 Gbps GDDR6; the 9070 XT's Navi 48 with all 64 CUs: AMD's
    # 191 TFLOPS FP16 is the dense matrix rate (64 CUs x 2.92 GHz x 1024; 383 with sparsity)
    GpuSheet(r"R9700", "GDDR6", 32, 640, 191.0),
    # --- Intel --------------------------------------------------------------------------------------
    # Intel Arc B580 product page: 12 GB GDDR6, 192-bit 19 Gbps = 456 GB/s, 160 XMX engines, 233 peak
    # INT8 TOPS; Xe2 XMX FP16 runs at half the INT8 rate: 116.5 TFLOPS (no sparsity)
    GpuSheet(r"B580", "GDDR6", 12, 456, 116.5),
    # --- Unified memory: memory_gb 0, the GPU shares host memory -------------------------------------
    # NVIDIA DGX Spark spec: 128 GB LPDDR5X at 273 GB/s; 1 PFLOP FP4 with sparsity = 500 dense, halved
    # per doubling of the operand width: 125 TFLOPS BF16 dense
    GpuSheet(r"GB10\b", "LPDDR5X", 0, 273, 125.0, unified=True),
    GpuSheet(r"M2 Ultra", "LPDDR5", 0, 800, 27.0, unified=True),  # Apple M2 Ultra: 800 GB/s, 76-core GPU
    GpuSheet(r"M2 Max", "LPDDR5", 0, 400, 13.6, unified=True),  # Apple M2 Max: 400 GB/s, 38-core GPU
    GpuSheet(r"M3 Ultra", "LPDDR5", 0, 819, 28.0, unified=True),  # Apple M3 Ultra: 819 GB/s
    GpuSheet(r"M1 Ultra", "LPDDR5", 0, 800, 21.0, unified=True),  # Apple M1 Ultra: 800 GB/s, 64-core GPU 21 TFLOPS
    # Apple GPUs run FP16 at their FP32 rate: cores x 128 lanes x 2 x clock. Bandwidths are Apple's
    # (the top GPU configuration where a name cannot tell the bins apart). Apple's own TFLOPS: M1 Pro
    # 5.2 (16-core), M1 Max 10.4 (32-core). M2 Pro 19-core at the M2 Max's 1.398 GHz: 6.8. Apple
    # publishes none for M3 and M4: M3 Max 40-core and M3 Pro 18-core at 1.398 GHz (TechPowerUp's
    # clock) give 14.3 and 6.4; M4 Max 40-core 18.4 (Creative Strategies' M5 research note), M4 Pro
    # 20-core at the same clock 9.2. M3 Max: 400 GB/s for the 40-core GPU (the 30-core bin has 300);
    # M4 Max: 546 GB/s for the 40-core GPU (the 32-core bin has 410).
    GpuSheet(r"M4 Max", "LPDDR5X", 0, 546, 18.4, unified=True),
    GpuSheet(r"M4 Pro", "LPDDR5X", 0, 273, 9.2, unified=True),
    GpuSheet(r"M3 Max", "LPDDR5", 0, 400, 14.3, unified=True),
    GpuSheet(r"M3 Pro", "LPDDR5", 0, 150, 6.4, unified=True),
    GpuSheet(r"M2 Pro", "LPDDR5", 0, 200, 6.8, unified=True),
    GpuSheet(r"M1 Max", "LPDDR5", 0, 400, 10.4, unified=True),
    GpuSheet(r"M1 Pro", "LPDDR5", 0, 200, 5.2, unified=True),
    # AMD Ryzen AI Max+ 395: 256-bit LPDDR5X-8000, Radeon 8060S with 40 RDNA 3.5 CUs
    GpuSheet(r"8060S", "LPDDR5X", 0, 256, 59.0, unified=True),
)


# AMD GPUs run vLLM and SGLang on ROCm, whose per-step floors differ from CUDA's (harness.perf.overheads)
_AMD = re.compile(r"\bAMD\b|Instinct|Radeon|\bMI\d{3}|\b(?:7900|9070|R9700|W7900|8060S)\b", re.IGNORECASE)


def is_amd(name: str | None) -> bool:
    """Whether a GPU name is an AMD part (ROCm rather than CUDA)."""
    return bool(name and _AMD.search(name))


# Laptop parts share desktop names but not their memory or clocks: unknown rather than wrong.
_MOBILE = re.compile(r"Laptop|Mobile|Max-Q", re.IGNORECASE)
# ... except desktop cards that NVIDIA also calls Max-Q (the RTX PRO 6000 Blackwell Max-Q Workstation
# Edition is a 300 W desktop card with the full 96 GB).
_DESKTOP_MAX_Q = re.compile(r"RTX\s*PRO\s*6000", re.IGNORECASE)


def sheet_for(name: str | None) -> GpuSheet | None:
    """The rated figures for a GPU name, or None when moebench does not know it."""
    if not name or (_MOBILE.search(name) and not _DESKTOP_MAX_Q.search(name)):
        return None
    sheet = next((s for s in GPU_SHEETS if re.search(s.pattern, name, re.IGNORECASE)), None)
    stated = re.search(r"(?<![\w.])(\d+(?:\.\d+)?)\s*G(?:B|iB)?\b", name, re.IGNORECASE)  # 141GB, H20-141G
    if sheet is not None and stated and not sheet.unified and sheet.memory_gb:
        # a capacity in the name is the card's own (an H20 "141GB" is the HBM3e variant of the 96 GB
        # part); one far from the sheet's is about something else (a GH200 "480GB" counts its LPDDR5X)
        gb = float(stated.group(1))
        if gb != sheet.memory_gb and 0.5 <= gb / sheet.memory_gb <= 2.0:
            return replace(sheet, memory_gb=gb)
    return sheet
