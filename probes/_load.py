"""How busy the rest of the machine was while we measured.

A bandwidth probe shares memory controllers and cores with every other process: a build or a
test suite running beside it halves the figures and inflates their spread. Comparing the whole
machine's busy CPU time (/proc/stat) with this process's own (/proc/self/stat) over the run tells
the user when figures were taken on a busy machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from probes.sources import Sources

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuTimes:
    """Busy CPU-seconds of the whole machine and of this process, and the CPU count."""

    machine_busy: float
    own: float
    cpus: int


def read_cpu_times(sources: Sources) -> CpuTimes | None:
    """From /proc/stat ('cpu' lines; idle and iowait are not busy) and /proc/self/stat
    (fields 14-17, counted from 1: utime, stime, cutime, cstime)."""
    stat, own = sources.read_text("/proc/stat"), sources.read_text("/proc/self/stat")
    if not stat or not own:
        return None
    lines = stat.splitlines()
    after_name = own.rsplit(")", 1)[-1].split()  # the command name may contain spaces
    try:
        fields = [int(x) for x in lines[0].split()[1:9]]
        busy = sum(fields) - fields[3] - fields[4]
        # utime, stime, and cutime, cstime of waited-for children (forked probe workers are ours)
        own_ticks = sum(int(x) for x in after_name[11:15])
    except (ValueError, IndexError):
        return None
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdecimal())
    return CpuTimes(busy / TICKS, own_ticks / TICKS, max(1, cpus))


def other_load(before: CpuTimes | None, after: CpuTimes | None, wall_s: float) -> float | None:
    """Share of the machine's CPU capacity other processes used between two readings."""
    if before is None or after is None or wall_s <= 0:
        return None
    others = (after.machine_busy - before.machine_busy) - (after.own - before.own)
    return max(0.0, others / (wall_s * after.cpus))
