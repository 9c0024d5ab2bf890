"""NVIDIA GPUs through NVML: what decides how fast a GPU (or a CPU+GPU hybrid) decodes.

No GPU, no driver or no NVML library is a normal case: ``available`` is False and ``reason``
says which, and nothing is raised.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from probes._gpu_bandwidth import measure_bandwidth
from probes._nvml import Nvml, NvmlUnavailable, PynvmlNvml
from harness.hardware.gpu_sheet import sheet_for

__all__ = ["GpuInfo", "GpuLink", "GpuReport", "collect_gpus", "data_rate", "vendor_sheet"]

MIB = 1 << 20


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as NVML reports it, with the derived theoretical bandwidth."""

    index: int
    name: str | None = None
    uuid: str | None = None
    memory_total_bytes: int | None = None
    memory_free_bytes: int | None = None
    memory_type: str | None = None  # from the vendor-sheet table by name
    bus_width_bits: int | None = None
    max_memory_clock_mhz: int | None = None
    theoretical_bandwidth_gbs: float | None = None
    sm_clock_max_mhz: int | None = None
    multiprocessor_count: int | None = None
    compute_capability: str | None = None
    pcie_gen_max: int | None = None
    pcie_gen_current: int | None = None
    pcie_width_max: int | None = None
    pcie_width_current: int | None = None
    power_limit_w: float | None = None
    temperature_c: int | None = None
    ecc_enabled: bool | None = None
    mig_enabled: bool | None = None
    numa_node: int | None = None
    nvlink_version: int | None = None
    nvlink_links: int | None = None  # active NVLinks
    bf16_tflops: float | None = None  # dense, vendor sheet; None when the name is not in the table
    measured_bandwidth_gbs: float | None = None  # device-to-device copy, torch or cupy only
    measured_h2d_gbs: float | None = None  # pinned host-to-device copy, torch or cupy only


@dataclass(frozen=True)
class GpuLink:
    """How two GPUs reach each other; NVLink bandwidth is per direction."""

    a: int
    b: int
    kind: str  # as `nvidia-smi topo -m` says it: NV12, PIX, PXB, PHB, NODE, SYS
    nvlinks: int = 0
    bandwidth_gbs: float | None = None  # NVLink only: links x per-link rate of its version


@dataclass(frozen=True)
class GpuReport:
    """All NVIDIA GPUs of the machine, or why there are none."""

    available: bool
    reason: str | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    gpus: tuple[GpuInfo, ...] = ()
    links: tuple[GpuLink, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``gpu`` block of the probe report, contract)."""
        return {"available": self.available, "reason": self.reason,
                "driver_version": self.driver_version, "cuda_version": self.cuda_version,
                "gpus": [asdict(g) for g in self.gpus], "links": [asdict(x) for x in self.links]}


# Transfers per NVML memory-clock cycle. NVML reports HBM's real clock (double data rate) and,
# for GDDR5/6/6X/7, a clock that is half the per-pin data rate: RTX 4090 reports 10501 MHz for
# 21 Gbps GDDR6X, A10 6251 MHz for 12.5 Gbps GDDR6, H100 SXM 2619 MHz for its 5120-bit HBM3 at
# 3.35 TB/s. So every type is 2 in NVML's convention; the table keeps the types explicit so that
# a new memory type that breaks the convention is added here, not guessed.
_DATA_RATE = {"HBM2": 2, "HBM2e": 2, "HBM3": 2, "HBM3e": 2, "GDDR5": 2, "GDDR5X": 2,
              "GDDR6": 2, "GDDR6X": 2, "GDDR7": 2}
DEFAULT_DATA_RATE = 2

# GB/s per NVLink per direction, by NVLink version (NVIDIA NVLink page: P100 NVLink1 4 x 20 GB/s;
# V100 NVLink2, A100 NVLink3 and H100 NVLink4 25 GB/s per link per direction -> 6, 12, 18 links =
# 150, 300, 450 GB/s; Blackwell NVLink5 50 GB/s per link, 18 links = 900 GB/s per direction).
_NVLINK_GBS = {1: 20.0, 2: 25.0, 3: 25.0, 4: 25.0, 5: 50.0}


def vendor_sheet(name: str | None) -> tuple[str | None, float | None]:
    """(memory type, dense BF16 TFLOPS) for a GPU name, (None, None) when unknown."""
    sheet = sheet_for(name)
    return (sheet.memory_type, sheet.bf16_tflops) if sheet else (None, None)


def data_rate(memory_type: str | None) -> int:
    """Transfers per NVML memory clock cycle for this memory type (see ``_DATA_RATE``)."""
    return _DATA_RATE.get(memory_type or "", DEFAULT_DATA_RATE)


def theoretical_bandwidth(bus_bits: int | None, clock_mhz: int | None,
                          memory_type: str | None) -> float | None:
    """GB/s = bus width in bytes x memory clock x transfers per clock."""
    if not bus_bits or not clock_mhz:
        return None
    return round(bus_bits / 8 * clock_mhz * 1e6 * data_rate(memory_type) / 1e9, 1)


def collect_gpus(nvml: Nvml | None = None, measure: bool = True) -> GpuReport:
    """Every GPU NVML sees; ``measure`` adds copy bandwidths when torch or cupy is importable."""
    nv = nvml if nvml is not None else PynvmlNvml()
    try:
        nv.init()
    except NvmlUnavailable as exc:
        return GpuReport(available=False, reason=str(exc))
    try:
        count = nv.device_count()
        if count == 0:
            return GpuReport(available=False, reason="no NVIDIA GPU",
                             driver_version=nv.driver_version(), cuda_version=nv.cuda_version())
        gpus = tuple(_gpu(nv, i) for i in range(count))
        report = GpuReport(True, None, nv.driver_version(), nv.cuda_version(), gpus,
                           _links(nv, gpus))
    finally:
        nv.shutdown()
    return _with_measurements(report) if measure and nvml is None else report


def _gpu(nv: Nvml, index: int) -> GpuInfo:
    values = {f: nv.query(index, f) for f in (
        "name", "uuid", "memory_total_bytes", "memory_free_bytes", "bus_width_bits",
        "max_memory_clock_mhz", "sm_clock_max_mhz", "multiprocessor_count", "compute_capability",
        "pcie_gen_max", "pcie_gen_current", "pcie_width_max", "pcie_width_current",
        "power_limit_w", "temperature_c", "ecc_enabled", "mig_enabled", "numa_node",
        "nvlink_version", "nvlink_links")}
    memory_type, tflops = vendor_sheet(values["name"])
    peak = theoretical_bandwidth(values["bus_width_bits"], values["max_memory_clock_mhz"], memory_type)
    return GpuInfo(index=index, memory_type=memory_type, bf16_tflops=tflops,
                   theoretical_bandwidth_gbs=peak, **values)


def _links(nv: Nvml, gpus: tuple[GpuInfo, ...]) -> tuple[GpuLink, ...]:
    """Every pair's connection; NVLink pairs get their per-direction bandwidth."""
    links = []
    for a in range(len(gpus)):
        for b in range(a + 1, len(gpus)):
            kind = nv.link(a, b)
            if kind is None:
                continue
            m = re.fullmatch(r"NV(\d+)", kind)
            count = int(m.group(1)) if m else 0
            rate = _NVLINK_GBS.get(gpus[a].nvlink_version or 0)
            links.append(GpuLink(a, b, kind, count, count * rate if count and rate else None))
    return tuple(links)


def _with_measurements(report: GpuReport) -> GpuReport:
    gpus = []
    for g in report.gpus:
        device, h2d = measure_bandwidth(g.index)
        gpus.append(replace(g, measured_bandwidth_gbs=device, measured_h2d_gbs=h2d))
    return replace(report, gpus=tuple(gpus))
