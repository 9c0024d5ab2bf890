"""Parsers for /proc/cpuinfo, CPU lists and sysfs cache sizes (pure functions over text)."""

from __future__ import annotations

# The flags a reader of a bandwidth/compute report cares about (x86 /proc/cpuinfo "flags",
# arm64 "Features"). AMX and AVX-512 BF16 decide whether a CPU can run BF16 GEMMs fast.
INTERESTING_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
    "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "amx_fp16",
    "neon", "asimd", "asimddp", "asimdhp", "bf16", "i8mm", "sve", "sve2", "sme",
)

# (implementer, part) from arm64 /proc/cpuinfo "CPU implementer" / "CPU part" -> core name.
# Values from the Linux kernel's arch/arm64/include/asm/cputype.h.
ARM_PARTS = {
    ("0x41", "0xd0c"): "ARM Neoverse-N1",
    ("0x41", "0xd40"): "ARM Neoverse-V1",
    ("0x41", "0xd49"): "ARM Neoverse-N2",
    ("0x41", "0xd4f"): "ARM Neoverse-V2",
    ("0x41", "0xd8e"): "ARM Neoverse-N3",
    ("0x41", "0xd84"): "ARM Neoverse-V3",
    ("0x48", "0xd01"): "HiSilicon Kunpeng-920 (TSV110)",
    ("0xc0", "0xac3"): "Ampere-1",
    ("0x61", "0x000"): "Apple",
}
ARM_VENDORS = {"0x41": "ARM", "0x48": "HiSilicon", "0xc0": "Ampere", "0x61": "Apple",
               "0x51": "Qualcomm", "0x4e": "NVIDIA"}


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """One dict per processor block ("key : value" lines; blank lines separate blocks)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return [b for b in blocks if "processor" in b]


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """'0-3,8,10-11' (sysfs cpulist format) -> (0, 1, 2, 3, 8, 10, 11); malformed parts skipped."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        lo, _, hi = part.strip().partition("-")
        if lo.isdecimal() and (hi.isdecimal() or not hi):
            cpus.extend(range(int(lo), int(hi or lo) + 1))
    return tuple(sorted(set(cpus)))


def parse_cpu_map(text: str) -> tuple[int, ...]:
    """'00000000,0000ffff' (sysfs cpumap hex mask, highest word first) -> CPU numbers."""
    try:
        mask = int(text.strip().replace(",", "") or "0", 16)
    except ValueError:
        return ()
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)


def parse_size(text: str) -> int | None:
    """Sysfs cache size ('32768K', '1M') or meminfo-like '16 kB' -> bytes."""
    t = text.strip().upper().replace("B", "").replace(" ", "")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        if t and t[-1] in scale:
            return int(float(t[:-1]) * scale[t[-1]])
        return int(t)
    except ValueError:
        return None


def flags_of(block: dict[str, str]) -> tuple[str, ...]:
    """The interesting ISA flags of one processor block, in ``INTERESTING_FLAGS`` order."""
    present = set((block.get("flags") or block.get("Features") or "").split())
    return tuple(f for f in INTERESTING_FLAGS if f in present)


def model_of(block: dict[str, str]) -> str | None:
    """'model name' on x86; the core name from implementer/part on arm64."""
    if block.get("model name"):
        return block["model name"]
    key = (block.get("CPU implementer", "").lower(), block.get("CPU part", "").lower())
    if key[0]:
        return ARM_PARTS.get(key, f"arm64 implementer {key[0]} part {key[1]}")
    return block.get("cpu") or None  # POWER: "cpu : POWER9"


def vendor_of(block: dict[str, str]) -> str | None:
    """'vendor_id' on x86 (GenuineIntel, AuthenticAMD); the implementer's name on arm64."""
    if block.get("vendor_id"):
        return block["vendor_id"]
    impl = block.get("CPU implementer", "").lower()
    return ARM_VENDORS.get(impl, impl or None) if impl else None


def architecture_of(block: dict[str, str]) -> str | None:
    """x86_64 when the flags say 64-bit mode ('lm'); aarch64 when 'CPU architecture: 8'."""
    if "lm" in block.get("flags", "").split():
        return "x86_64"
    if block.get("CPU architecture") in {"8", "AArch64"}:
        return "aarch64"
    return None
