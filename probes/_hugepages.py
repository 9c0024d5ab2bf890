"""How much of the probe's memory the kernel backs with transparent huge pages.

With 4 KiB pages a streaming kernel takes a TLB miss every 512 doubles; with 2 MiB pages almost
never. numpy asks for huge pages (madvise) on large arrays, but whether it gets them depends on
/sys/kernel/mm/transparent_hugepage and on fragmentation, so the probe reports what it got.
"""

from __future__ import annotations

from probes.sources import RealSources, Sources


def anon_huge_bytes(sources: Sources | None = None) -> int | None:
    """AnonHugePages of this process (/proc/self/smaps_rollup, Linux >= 4.14), in bytes."""
    text = (sources or RealSources()).read_text("/proc/self/smaps_rollup")
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] == "AnonHugePages:" and parts[1].isdecimal():
            return int(parts[1]) * 1024
    return None
