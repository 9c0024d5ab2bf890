"""System inventory: what a lab changes between two runs (CPU, NUMA, DIMMs, BIOS, kernel knobs).

Every value is read through ``Sources`` so that tests replay captures from real machines; a value
that cannot be read is ``None`` and ``missing[field]`` says why. Nothing here needs root: only the
DIMM list does (dmidecode), and its absence is reported, not raised.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from probes._cpu import (
    architecture_of, flags_of, model_of, parse_cpu_list, parse_cpu_map, parse_cpuinfo, parse_size,
    vendor_of,
)
from probes._dmidecode import Dimm, count_slots, parse_dimms
from probes.sources import RealSources, Sources
from harness.hardware.facts import max_channels_per_socket

__all__ = ["Dimm", "SystemInfo", "collect_system", "max_channels_per_socket"]

CPU = "/sys/devices/system/cpu"
NODE = "/sys/devices/system/node"
DMI = "/sys/class/dmi/id"


@dataclass(frozen=True)
class SystemInfo:
    """The probed machine's inventory. ``missing`` maps a field name to why it is None."""

    hostname: str | None = None
    cpu_model: str | None = None
    cpu_vendor: str | None = None
    architecture: str | None = None
    sockets: int | None = None
    cores_per_socket: int | None = None
    cores: int | None = None
    threads: int | None = None
    numa_nodes: int = 1
    numa_node_cpus: tuple[tuple[int, ...], ...] = ()
    numa_node_memory_bytes: tuple[int | None, ...] = ()  # MemTotal of each node, same order
    l3_cache_bytes: int | None = None  # total over all sockets
    cpu_flags: tuple[str, ...] = ()
    virtualized: bool | None = None  # the CPU reports a hypervisor (x86 "hypervisor" flag)
    memory_total_bytes: int | None = None
    memory_available_bytes: int | None = None  # MemAvailable, or less where a cgroup limit binds
    memory_cgroup_limit_bytes: int | None = None  # tightest memory limit of this process's cgroups
    cpu_quota: float | None = None  # CPUs' worth of time a cgroup CFS quota allows (containers)
    kernel: str | None = None
    governor: str | None = None
    thp: str | None = None  # transparent huge pages mode: always / madvise / never
    numa_balancing: bool | None = None
    smt: bool | None = None  # simultaneous multithreading active
    bios_vendor: str | None = None
    bios_version: str | None = None
    bios_date: str | None = None
    product_name: str | None = None
    dimms: tuple[Dimm, ...] = ()
    dimm_slots: int | None = None
    memory_type: str | None = None
    memory_speed_mts: int | None = None  # configured (running) speed, slowest populated DIMM
    memory_channels: int | None = None  # populated channels over all sockets (estimate)
    max_memory_channels: int | None = None  # channels the CPUs offer (table by model)
    theoretical_bandwidth_gbs: float | None = None  # channels x MT/s x 8 B / 1000
    missing: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        d = asdict(self)
        d["numa_node_cpus"] = [list(c) for c in self.numa_node_cpus]
        d["numa_node_memory_bytes"] = list(self.numa_node_memory_bytes)
        d["cpu_flags"] = list(self.cpu_flags)
        d["dimms"] = [asdict(x) for x in self.dimms]
        d["missing"] = dict(self.missing)
        return d


def collect_system(sources: Sources | None = None) -> SystemInfo:
    """Inventory of the machine behind ``sources`` (the running one by default)."""
    src = sources or RealSources()
    missing: dict[str, str] = {}
    values: dict[str, Any] = {}
    values.update(_cpu_fields(src, missing))
    values.update(_numa_fields(src, values.get("threads")))
    values["l3_cache_bytes"] = _l3_total(src, values.get("threads"), missing)
    values.update(_memory_fields(src, missing))
    values["cpu_quota"] = _cgroup_cpu_quota(src)
    values.update(_os_fields(src, missing))
    values.update(_dmi_fields(src, missing))
    values.update(_dimm_fields(src, values, missing))
    return SystemInfo(**values, missing=missing)


def _first_line(src: Sources, path: str) -> str | None:
    text = src.read_text(path)
    if text is None:
        return None
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line or None


def _cpu_fields(src: Sources, missing: dict[str, str]) -> dict[str, Any]:
    """Model, vendor, flags from /proc/cpuinfo; sockets and cores from its ids or sysfs topology."""
    text = src.read_text("/proc/cpuinfo")
    if not text:
        missing["cpu_model"] = "/proc/cpuinfo not readable"
        return {}
    blocks = parse_cpuinfo(text)
    first = blocks[0] if blocks else {}
    threads = len(blocks) or None
    sockets, cores = _topology(src, blocks)
    arch = _first_line(src, "/proc/sys/kernel/arch") or architecture_of(first)
    flags = first.get("flags")
    return {
        "cpu_model": model_of(first), "cpu_vendor": vendor_of(first), "architecture": arch,
        "cpu_flags": flags_of(first), "threads": threads, "sockets": sockets, "cores": cores,
        "cores_per_socket": cores // sockets if cores and sockets else None,
        "virtualized": None if flags is None else "hypervisor" in flags.split(),
    }


def _topology(src: Sources, blocks: list[dict[str, str]]) -> tuple[int | None, int | None]:
    """(sockets, physical cores). x86 cpuinfo has 'physical id'/'core id'; else sysfs; else 1 each."""
    if blocks and "physical id" in blocks[0] and "core id" in blocks[0]:
        cores = {(b["physical id"], b["core id"]) for b in blocks}
        return len({b["physical id"] for b in blocks}), len(cores)
    found = [_sysfs_core(src, b.get("processor", "")) for b in blocks]
    ids = [i for i in found if i is not None]
    if ids and len(ids) == len(found):
        return len({p for p, _ in ids}), len(set(ids))
    return (1, len(blocks) or None) if blocks else (None, None)


def _sysfs_core(src: Sources, cpu: str) -> tuple[str, str] | None:
    package = _first_line(src, f"{CPU}/cpu{cpu}/topology/physical_package_id")
    core = _first_line(src, f"{CPU}/cpu{cpu}/topology/core_id")
    return (package, core) if package is not None and core is not None else None


def _numa_fields(src: Sources, threads: int | None) -> dict[str, Any]:
    """NUMA nodes from /sys/devices/system/node/node*/cpulist (cpumap on older kernels)."""
    names = [n for n in src.list_dir(NODE) or [] if re.fullmatch(r"node\d+", n)]
    node_cpus = []
    for name in sorted(names, key=lambda n: int(n[4:])):
        cpulist = src.read_text(f"{NODE}/{name}/cpulist")
        cpumap = None if cpulist is not None else src.read_text(f"{NODE}/{name}/cpumap")
        cpus = parse_cpu_list(cpulist) if cpulist is not None else (
            parse_cpu_map(cpumap) if cpumap is not None else ())
        node_cpus.append(cpus)
    memory = tuple(_node_memory(src, name) for name in sorted(names, key=lambda n: int(n[4:])))
    if not node_cpus:  # no NUMA support in the kernel: one node with every CPU
        node_cpus = [tuple(range(threads))] if threads else []
    return {"numa_nodes": max(1, len(node_cpus)), "numa_node_cpus": tuple(node_cpus),
            "numa_node_memory_bytes": memory}


def _node_memory(src: Sources, name: str) -> int | None:
    """'Node 0 MemTotal:  134182340 kB' from /sys/devices/system/node/nodeN/meminfo, in bytes."""
    m = re.search(r"MemTotal:\s+([0-9]+) kB", src.read_text(f"{NODE}/{name}/meminfo") or "")
    return int(m.group(1)) * 1024 if m else None


def _l3_total(src: Sources, threads: int | None, missing: dict[str, str]) -> int | None:
    """Total last-level cache: cpu0's L3 (or highest level) size x number of such instances.

    The instance count is threads / CPUs sharing cpu0's cache, which avoids reading every
    CPU's cache directory on a 256-thread box (all instances are the same size on every
    server CPU we know of).
    """
    best: tuple[int, int, str] | None = None
    for index in src.list_dir(f"{CPU}/cpu0/cache") or []:
        base = f"{CPU}/cpu0/cache/{index}"
        level, size = _first_line(src, f"{base}/level"), _first_line(src, f"{base}/size")
        if index.startswith("index") and level and level.isdecimal() and size and (
                best is None or int(level) > best[0]):
            best = (int(level), parse_size(size) or 0, _first_line(src, f"{base}/shared_cpu_list") or "")
    if best is None or not best[1]:
        missing["l3_cache_bytes"] = f"{CPU}/cpu0/cache not readable"
        return None
    sharing = len(parse_cpu_list(best[2])) if best[2] else 1
    instances = max(1, (threads or sharing) // max(1, sharing))
    return best[1] * instances


def _memory_fields(src: Sources, missing: dict[str, str]) -> dict[str, Any]:
    """MemTotal and MemAvailable from /proc/meminfo (kB)."""
    text = src.read_text("/proc/meminfo") or ""
    kb = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdecimal():
            kb[key.strip()] = int(parts[0]) * 1024
    if not kb:
        missing["memory_total_bytes"] = "/proc/meminfo not readable"
    available = kb.get("MemAvailable")
    limit, room = _cgroup_memory(src)
    if room is not None:  # a container sees the host's MemAvailable, not what it may use
        available = room if available is None else min(available, room)
    return {"memory_total_bytes": kb.get("MemTotal"), "memory_available_bytes": available,
            "memory_cgroup_limit_bytes": limit}


_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a huge number (2^63 rounded to a page)
_CGROUP_ROOT = {"v1": "/sys/fs/cgroup/{controller}", "v2": "/sys/fs/cgroup"}
_MEMORY_FILES = {"v1": ("memory.limit_in_bytes", "memory.usage_in_bytes"),
                 "v2": ("memory.max", "memory.current")}


def _cgroup_dirs(src: Sources, controller: str) -> list[tuple[str, str]]:
    """(version, folder) of this process's cgroup for ``controller`` and of each ancestor up to
    the mount's root. /proc/self/cgroup lines are "N:memory:/path" (v1) or "0::/path" (v2). In a
    container the root is the container's own cgroup, so walking up also finds its limits."""
    dirs = []
    for line in (src.read_text("/proc/self/cgroup") or "").splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        version = "v2" if hierarchy == "0" and not controllers else (
            "v1" if controller in controllers.split(",") else None)
        if version is None:
            continue
        base = _CGROUP_ROOT[version].format(controller=controller)
        parts = [p for p in path.split("/") if p]
        dirs += [(version, "/".join([base, *parts[:depth]])) for depth in range(len(parts), -1, -1)]
    return dirs


def _cgroup_memory(src: Sources) -> tuple[int | None, int | None]:
    """(tightest memory limit, room left under it) over this process's cgroups; (None, None)
    when nothing limits it."""
    best: tuple[int, int] | None = None
    for version, folder in _cgroup_dirs(src, "memory"):
        limit_file, usage_file = _MEMORY_FILES[version]
        limit, usage = _first_line(src, f"{folder}/{limit_file}"), _first_line(src, f"{folder}/{usage_file}")
        if limit and limit.isdecimal() and int(limit) < _UNLIMITED:
            room = max(0, int(limit) - (int(usage) if usage and usage.isdecimal() else 0))
            best = (int(limit), room) if best is None or room < best[1] else best
    return (None, None) if best is None else best


def _cgroup_cpu_quota(src: Sources) -> float | None:
    """CPUs' worth of time the tightest CFS quota allows (1.5 = 150 ms per 100 ms), None if none:
    v1 cpu.cfs_quota_us / cpu.cfs_period_us (-1 = none), v2 cpu.max ("max 100000" = none)."""
    quotas = []
    for version, folder in _cgroup_dirs(src, "cpu"):
        if version == "v1":
            quota = _first_line(src, f"{folder}/cpu.cfs_quota_us")
            period = _first_line(src, f"{folder}/cpu.cfs_period_us")
        else:
            quota, _, period = (_first_line(src, f"{folder}/cpu.max") or "").partition(" ")
        if quota and quota.isdecimal() and period and period.isdecimal() and int(period) > 0:
            quotas.append(int(quota) / int(period))
    return min(quotas) if quotas else None


def _os_fields(src: Sources, missing: dict[str, str]) -> dict[str, Any]:
    """Kernel and the knobs that move bandwidth numbers: governor, THP, NUMA balancing, SMT."""
    thp = src.read_text("/sys/kernel/mm/transparent_hugepage/enabled")
    m = re.search(r"\[(\w+)\]", thp or "")
    balancing = _first_line(src, "/proc/sys/kernel/numa_balancing")
    smt = _first_line(src, f"{CPU}/smt/active")
    governor = (_first_line(src, f"{CPU}/cpu0/cpufreq/scaling_governor")
                or _first_line(src, f"{CPU}/cpufreq/policy0/scaling_governor"))
    if governor is None:
        missing["governor"] = "no cpufreq driver (virtual machine or fixed-frequency CPU)"
    return {
        "hostname": _first_line(src, "/proc/sys/kernel/hostname"),
        "kernel": _first_line(src, "/proc/sys/kernel/osrelease"),
        "governor": governor, "thp": m.group(1) if m else None,
        "numa_balancing": None if balancing is None else balancing != "0",
        "smt": None if smt is None else smt == "1",
    }


def _dmi_fields(src: Sources, missing: dict[str, str]) -> dict[str, Any]:
    """BIOS and product from /sys/class/dmi/id (world-readable; absent in many VMs)."""
    names = ("bios_vendor", "bios_version", "bios_date", "product_name")
    values = {n: _first_line(src, f"{DMI}/{n}") for n in names}
    if all(v is None for v in values.values()):
        missing["bios_vendor"] = f"{DMI} not readable (no SMBIOS table exposed, e.g. a VM)"
    return values


def _dimm_fields(src: Sources, values: dict[str, Any], missing: dict[str, str]) -> dict[str, Any]:
    """DIMMs from dmidecode, then populated channels and the theoretical peak bandwidth."""
    text = src.run(["dmidecode", "-t", "memory"], timeout=10.0)
    if not text:
        missing["dimms"] = "dmidecode not installed or not permitted (needs root): DIMMs unknown"
        missing["theoretical_bandwidth_gbs"] = "needs the DIMM population from dmidecode"
        return {}
    dimms = parse_dimms(text)
    if not dimms:
        missing["dimms"] = "dmidecode listed no populated memory device"
        return {}
    speeds = [d.configured_speed_mts or d.speed_mts for d in dimms]
    speed = min((s for s in speeds if s), default=None)
    per_socket = max_channels_per_socket(values.get("cpu_model"))
    sockets = values.get("sockets") or 1
    ceiling = per_socket * sockets if per_socket else None
    channels = min(len(dimms), ceiling) if ceiling else len(dimms)
    if ceiling is None:
        missing["max_memory_channels"] = "CPU model not in the channel table: one channel per DIMM assumed"
    peak = round(channels * speed * 8 / 1000, 1) if speed else None
    return {
        "dimms": dimms, "dimm_slots": count_slots(text), "memory_type": _memory_type(dimms, speed),
        "memory_speed_mts": speed, "memory_channels": channels, "max_memory_channels": ceiling,
        "theoretical_bandwidth_gbs": peak,
    }


def _memory_type(dimms: tuple[Dimm, ...], speed: int | None) -> str | None:
    """The most common named type; dmidecode < 3.4 prints '<OUT OF SPEC>' for DDR5, which only
    runs at 4000 MT/s and above (JEDEC JESD79-5), so a fast unnamed module is taken as DDR5."""
    named = Counter(d.type for d in dimms if d.type)
    if named:
        return named.most_common(1)[0][0]
    return "DDR5" if speed and speed >= 4000 else None
